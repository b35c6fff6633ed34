{{/* prometheus.yml of the bundled Prometheus (see prometheus.yaml). */}}
{{- define "telemetry.prometheusConfig" -}}
global:
  scrape_interval: {{ .Values.prometheus.scrapeInterval }}
  evaluation_interval: {{ .Values.prometheus.scrapeInterval }}
  external_labels:
    release: {{ .Release.Name }}
    namespace: {{ .Release.Namespace }}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:{{ .Values.prometheus.port }}"]
  - job_name: telemetry
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [{{ .Release.Namespace | quote }}]
        selectors:
          - role: pod
            label: "app.kubernetes.io/instance={{ .Release.Name }},app.kubernetes.io/part-of=telemetry-stack"
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__meta_kubernetes_pod_phase]
        action: drop
        regex: (Pending|Succeeded|Failed)
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_component]
        target_label: role
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
{{- end }}
