package scalers

// The constants the Redis scalers share with scalers that kube-worker's test image leaves out
// (kafka_scaler.go and azure_queue_scaler.go define them upstream).
const (
	stringEnable       = "enable"
	stringDisable      = "disable"
	externalMetricType = "External"
)
