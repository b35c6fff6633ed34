{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "telemetry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; role suffixes are appended to it. */}}
{{- define "telemetry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "telemetry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "telemetry.labels" -}}
helm.sh/chart: {{ include "telemetry.chart" . }}
app.kubernetes.io/name: {{ include "telemetry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: telemetry-stack
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "broker"). */}}
{{- define "telemetry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "telemetry.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "telemetry.componentLabels" -}}
{{ include "telemetry.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "telemetry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "telemetry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "telemetry.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Names of the role objects. */}}
{{- define "telemetry.brokerName" -}}{{ include "telemetry.fullname" . }}-broker{{- end }}
{{- define "telemetry.apiName" -}}{{ include "telemetry.fullname" . }}-api{{- end }}
{{- define "telemetry.proxyName" -}}{{ include "telemetry.fullname" . }}-proxy{{- end }}
{{- define "telemetry.streamerName" -}}{{ include "telemetry.fullname" . }}-streamer{{- end }}
{{- define "telemetry.collectorName" -}}{{ include "telemetry.fullname" . }}-collector{{- end }}
{{- define "telemetry.prometheusName" -}}{{ include "telemetry.fullname" . }}-prometheus{{- end }}
{{- define "telemetry.grafanaName" -}}{{ include "telemetry.fullname" . }}-grafana{{- end }}

{{/* The Secret holding API_KEY and SERVICE_TOKEN. */}}
{{- define "telemetry.secretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else }}
{{- include "telemetry.fullname" . }}-auth
{{- end }}
{{- end }}

{{/* In-cluster URLs between roles. */}}
{{- define "telemetry.apiURL" -}}
http://{{ include "telemetry.apiName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.api.port }}
{{- end }}
{{- define "telemetry.proxyURL" -}}
http://{{ include "telemetry.proxyName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.proxy.port }}
{{- end }}

{{/*
A secret value that is generated once and then kept: the given value if set, else the
value already in the cluster's Secret (lookup; empty when rendering offline), else a new
random one. Call with (dict "ctx" $ "secret" NAME "key" KEY "value" GIVEN "length" N).
Returns the plain (not base64) value.
*/}}
{{- define "telemetry.persistentSecretValue" -}}
{{- if .value }}
{{- .value }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum (int .length) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by the telemetry roles. */}}
{{- define "telemetry.podCommon" -}}
serviceAccountName: {{ include "telemetry.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Environment every telemetry role gets. */}}
{{- define "telemetry.commonEnv" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{- define "telemetry.serviceTokenEnv" -}}
- name: SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "telemetry.secretName" . }}
      key: {{ .Values.auth.serviceTokenKey }}
{{- end }}

{{/* HTTP probes: (dict "ctx" $ "port" PORTNAME "live" PATH "ready" PATH). */}}
{{- define "telemetry.probes" -}}
livenessProbe:
  httpGet:
    path: {{ .live }}
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: {{ .ready }}
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.readiness | nindent 2 }}
# Replaying a WAL or a broker log can take a while; liveness waits for the first success.
startupProbe:
  httpGet:
    path: {{ .live }}
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.startup | nindent 2 }}
{{- end }}

{{/* Annotations that make Prometheus scrape a pod. */}}
{{- define "telemetry.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}

{{/* A volumeClaimTemplate/PVC spec body: (dict "p" persistenceValues). */}}
{{- define "telemetry.pvcSpec" -}}
accessModes:
  {{- toYaml .p.accessModes | nindent 2 }}
{{- if .p.storageClass }}
{{- if eq "-" .p.storageClass }}
storageClassName: ""
{{- else }}
storageClassName: {{ .p.storageClass | quote }}
{{- end }}
{{- end }}
resources:
  requests:
    storage: {{ .p.size | quote }}
{{- end }}
