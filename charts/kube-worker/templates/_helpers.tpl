{{/* Names: <release>-kube-worker unless the release name already says kube-worker. */}}
{{- define "kube-worker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kube-worker.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object; call with (dict "root" $ "component" "dispatcher"). */}}
{{- define "kube-worker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "kube-worker.selectorLabels" . }}
{{- end }}

{{- define "kube-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-worker.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- /*
An image tag as text, whether it came as a string or as a number (`--set image.tag=9`, `tag: 1.25`
in a values file): whole numbers without a decimal point or exponent (YAML and JSON numbers arrive as
float64), other numbers as written.
*/}}
{{- define "kube-worker.tag" -}}
{{- if kindIs "string" . }}{{ . }}
{{- else if and (kindIs "float64" .) (eq . (floor .)) }}{{ printf "%d" (int64 .) }}
{{- else }}{{ toString . }}
{{- end }}
{{- end }}

{{- /* repository:tag of an image value ({repository, tag}); `default` is the tag when none is set. */}}
{{- define "kube-worker.imageRef" -}}
{{- $tag := include "kube-worker.tag" .image.tag }}
{{- printf "%s:%s" .image.repository (default .default $tag) }}
{{- end }}

{{- define "kube-worker.image" -}}
{{- include "kube-worker.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) }}
{{- end }}

{{- define "kube-worker.executorServiceAccount" -}}
{{- printf "%s-executor" (include "kube-worker.fullname" .) }}
{{- end }}

{{- define "kube-worker.scriptServiceAccount" -}}
{{- if .Values.scriptPods.serviceAccount.create }}
{{- default (printf "%s-script" (include "kube-worker.fullname" .)) .Values.scriptPods.serviceAccount.name }}
{{- else }}
{{- .Values.scriptPods.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
A generated secret value that stays the same across upgrades: the one already in the cluster when
there is one (lookup), else a new random one. Call with (dict "root" $ "name" .. "key" .. "length" N);
prints the base64 value for a Secret's data.
*/}}
{{- define "kube-worker.generatedSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key }}
{{- else }}
{{- randAlphaNum .length | b64enc }}
{{- end }}
{{- end }}

{{- define "kube-worker.apiTokenSecret" -}}
{{- default (printf "%s-api-token" (include "kube-worker.fullname" .)) .Values.apiToken.existingSecret }}
{{- end }}

{{- define "kube-worker.dashboardSecret" -}}
{{- default (printf "%s-dashboard" (include "kube-worker.fullname" .)) .Values.dashboard.existingSecret }}
{{- end }}

{{- define "kube-worker.redisHost" -}}
{{- printf "%s-redis" (include "kube-worker.fullname" .) }}
{{- end }}

{{- define "kube-worker.redisSecret" -}}
{{- default (include "kube-worker.redisHost" .) .Values.redis.auth.existingSecret }}
{{- end }}

{{- define "kube-worker.sentinelPasswordSecret" -}}
{{- default (printf "%s-redis-sentinel" (include "kube-worker.fullname" .)) .Values.externalRedis.sentinelPasswordSecret }}
{{- end }}

{{- define "kube-worker.externalRedisSecret" -}}
{{- default (printf "%s-external-redis" (include "kube-worker.fullname" .)) .Values.externalRedis.existingSecret }}
{{- end }}

{{/*
REDIS_URL. The bundled Redis's password is never written into the pod spec: the container's
REDIS_PASSWORD (from the Secret) is expanded into the URL by Kubernetes when the container starts.
*/}}
{{- define "kube-worker.redisEnv" -}}
{{- if .Values.redis.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "kube-worker.redisSecret" . }}
      key: {{ .Values.redis.auth.existingSecretKey }}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "kube-worker.redisHost" .) | quote }}
{{- else if or .Values.externalRedis.url .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "kube-worker.externalRedisSecret" . }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- if or .Values.externalRedis.sentinelPassword .Values.externalRedis.sentinelPasswordSecret }}
- name: KUBE_WORKER_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "kube-worker.sentinelPasswordSecret" . }}
      key: {{ .Values.externalRedis.sentinelPasswordSecretKey }}
{{- end }}
{{- else }}
{{- fail "redis.enabled is false: set externalRedis.url or externalRedis.existingSecret to the Redis kube-worker should use" }}
{{- end }}
{{- end }}

{{/* What the dispatcher and the executors must agree on (the default limits: a request above them is refused at submit). */}}
{{- define "kube-worker.sharedEnv" -}}
{{ include "kube-worker.redisEnv" . | trim }}
- name: HOST
  value: "0.0.0.0"
- name: KUBE_WORKER_PREFIX
  value: {{ .Values.prefix | quote }}
- name: KUBE_WORKER_POOLS
  value: {{ join "," .Values.executor.pools | quote }}
- name: KUBE_WORKER_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: KUBE_WORKER_RETENTION_SECONDS
  value: {{ .Values.retentionSeconds | int64 | quote }}
{{- range $resource := list "cpu" "memory" }}
{{- with dig "limits" $resource "" $.Values.scriptPods.resources }}
- name: {{ printf "KUBE_WORKER_SCRIPT_LIMITS_%s" ($resource | upper) }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.scriptPods.maxResources.cpu }}
- name: KUBE_WORKER_SCRIPT_MAX_CPU
  value: {{ . | quote }}
{{- end }}
{{- with .Values.scriptPods.maxResources.memory }}
- name: KUBE_WORKER_SCRIPT_MAX_MEMORY
  value: {{ . | quote }}
{{- end }}
{{- with .Values.scriptPods.allowedServiceAccounts }}
- name: KUBE_WORKER_SCRIPT_ALLOWED_SERVICE_ACCOUNTS
  value: {{ join "," . | quote }}
{{- end }}
{{- with .Values.packages.sources }}
- name: KUBE_WORKER_PACKAGE_SOURCES
  value: {{ join "," . | quote }}
{{- end }}
- name: KUBE_WORKER_PACKAGE_MAX_BYTES
  value: {{ .Values.packages.maxBytes | int64 | quote }}
{{- with .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $.Values.tracing.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $.Values.tracing.samplerRatio | quote }}
{{- with $.Values.tracing.headersSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.tracing.headersSecretKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* A /tmp of its own, since the root filesystem is read-only. */}}
{{- define "kube-worker.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}
