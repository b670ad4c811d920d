module kube-worker.test/pause

go 1.26
