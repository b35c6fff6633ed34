#!/usr/bin/env bash
# quick-deploy.sh: build the telemetry image and deploy the telemetry-stack Helm chart.
#
#   deploy/quick-deploy.sh deploy            build the image, install or upgrade the release
#   deploy/quick-deploy.sh cleanup           uninstall the release; keep volumes (data) and namespace
#   deploy/quick-deploy.sh cleanup --force   also delete the release's volumes and its namespace
#   deploy/quick-deploy.sh redeploy          cleanup, then deploy (add --force to drop the data too)
#
# Run with --help for every option.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CHART_DIR="$SCRIPT_DIR/helm/telemetry-stack"
DOCKERFILE="$SCRIPT_DIR/docker/Dockerfile"
NS_MARK_LABEL="app.kubernetes.io/created-by=telemetry-quick-deploy"

NAMESPACE="${NAMESPACE:-telemetry}"
RELEASE="${RELEASE:-telemetry}"
PROFILE="${PROFILE:-dev}"
IMAGE="${IMAGE:-telemetry:dev}"
TIMEOUT="${TIMEOUT:-10m}"
BUILD=1
PUSH=0
FORCE=0
ASSUME_YES=0
DRY_RUN=0
WAIT=1
EXTRA_HELM_ARGS=()

usage() {
    cat <<EOF
Usage: $(basename "$0") COMMAND [OPTIONS] [-- EXTRA HELM ARGS]

Commands:
  deploy              Build the image (unless --no-build), then install or upgrade the
                      Helm release and wait until every role is ready.
  cleanup             Uninstall the release. Volumes (broker logs, TSDB data) and the
                      namespace are kept, so a later deploy resumes with all data.
  cleanup --force     Uninstall the release and delete its volumes and, if this script
                      created it, its namespace. No confirmation is asked. Data is lost.
  redeploy            cleanup, then deploy (with --force: the data is dropped as well).

Options:
  -n, --namespace NS    Namespace (default: $NAMESPACE; env NAMESPACE)
  -r, --release NAME    Helm release name (default: $RELEASE; env RELEASE)
  -p, --profile P       dev | prod | default | PATH to a values file (default: $PROFILE)
  -i, --image REF       Image reference REPO:TAG (default: $IMAGE; env IMAGE)
      --no-build        Do not build: use an image already pushed to a registry
      --push            Push the built image (for clusters that pull from a registry)
      --no-wait         Do not wait for the pods to become ready
      --timeout DUR     How long helm waits (default: $TIMEOUT)
  -f, --force           With cleanup/redeploy: delete volumes and namespace, no prompt
  -y, --yes             Do not ask for confirmation
      --dry-run         Print the commands instead of running them (prerequisites are
                        still checked)
  -h, --help            Show this help

Anything after -- is passed to helm upgrade --install (e.g. -- --set broker.replicas=5).

Prerequisites: kubectl with a reachable cluster, helm 3 or 4, and docker for building
(not needed with --no-build). With kind or minikube the built image is loaded into the
cluster; other clusters need --push and a registry in --image.
EOF
}

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command, or prints it with --dry-run.
run() {
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}

have() { command -v "$1" >/dev/null 2>&1; }

values_file() {
    case "$PROFILE" in
        dev) echo "$CHART_DIR/values-dev.yaml" ;;
        prod) echo "$CHART_DIR/values-prod.yaml" ;;
        default) echo "" ;;
        *)
            [[ -f "$PROFILE" ]] || die "values file '$PROFILE' not found (use dev, prod, default or a path)"
            echo "$PROFILE"
            ;;
    esac
}

# Checks every prerequisite of COMMAND and reports all that are missing at once.
check_prerequisites() {
    local command="$1"
    local missing=()
    if ! have kubectl; then
        missing+=("kubectl: not found on PATH (https://kubernetes.io/docs/tasks/tools/)")
    fi
    if ! have helm; then
        missing+=("helm: not found on PATH (https://helm.sh/docs/intro/install/)")
    fi
    if [[ "$command" != cleanup && $BUILD -eq 1 ]]; then
        if ! have docker; then
            missing+=("docker: not found on PATH; install it, or pass --no-build with --image REF of an image already pushed to a registry")
        elif ! docker info >/dev/null 2>&1; then
            missing+=("docker: the daemon is not reachable (is it running, may this user use it?); or pass --no-build --image REF")
        fi
    fi
    if have kubectl && ! kubectl version --request-timeout=10s >/dev/null 2>&1; then
        missing+=("kubernetes cluster: kubectl cannot reach one (context: $(kubectl config current-context 2>/dev/null || echo none)); check KUBECONFIG / kubectl config use-context")
    fi
    if [[ "$command" != cleanup && ! -f "$CHART_DIR/Chart.yaml" ]]; then
        missing+=("chart: $CHART_DIR/Chart.yaml not found")
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        printf 'error: missing prerequisites for %s:\n' "$command" >&2
        printf '  - %s\n' "${missing[@]}" >&2
        exit 2
    fi
}

confirm() {
    local prompt="$1"
    [[ $ASSUME_YES -eq 1 || $FORCE -eq 1 || $DRY_RUN -eq 1 ]] && return 0
    if [[ ! -t 0 ]]; then
        die "$prompt: refusing without a terminal; pass --yes"
    fi
    local answer
    read -r -p "$prompt [y/N] " answer
    [[ "$answer" == y || "$answer" == Y || "$answer" == yes ]]
}

# A tag is the part after the last ':' when that part has no '/' (else it is a registry port).
has_tag() { [[ "$IMAGE" == *:* && "${IMAGE##*:}" != */* ]]; }
image_repository() { if has_tag; then echo "${IMAGE%:*}"; else echo "$IMAGE"; fi; }
image_tag() { if has_tag; then echo "${IMAGE##*:}"; else echo latest; fi; }

build_image() {
    log "building $IMAGE from $DOCKERFILE"
    run env DOCKER_BUILDKIT=1 docker build -f "$DOCKERFILE" -t "$IMAGE" "$REPO_ROOT"
    local context=""
    context="$(kubectl config current-context 2>/dev/null || true)"
    if [[ $PUSH -eq 1 ]]; then
        log "pushing $IMAGE"
        run docker push "$IMAGE"
    elif [[ "$context" == kind-* ]] && have kind; then
        log "loading $IMAGE into kind cluster ${context#kind-}"
        run kind load docker-image "$IMAGE" --name "${context#kind-}"
    elif [[ "$context" == minikube ]] && have minikube; then
        log "loading $IMAGE into minikube"
        run minikube image load "$IMAGE"
    elif [[ "$context" == k3d-* ]] && have k3d; then
        log "importing $IMAGE into k3d cluster ${context#k3d-}"
        run k3d image import "$IMAGE" --cluster "${context#k3d-}"
    else
        warn "context '$context' is not kind/minikube/k3d: the cluster must be able to pull $IMAGE (use --push with a registry image)"
    fi
}

ensure_namespace() {
    if kubectl get namespace "$NAMESPACE" >/dev/null 2>&1; then
        return 0
    fi
    log "creating namespace $NAMESPACE"
    run kubectl create namespace "$NAMESPACE"
    run kubectl label namespace "$NAMESPACE" "$NS_MARK_LABEL" --overwrite
}

cmd_deploy() {
    check_prerequisites deploy
    local values
    values="$(values_file)"
    [[ $BUILD -eq 1 ]] && build_image
    ensure_namespace
    local args=(upgrade --install "$RELEASE" "$CHART_DIR" --namespace "$NAMESPACE"
        --set-string "image.repository=$(image_repository)" --set-string "image.tag=$(image_tag)")
    [[ -n "$values" ]] && args+=(--values "$values")
    [[ $WAIT -eq 1 ]] && args+=(--wait --timeout "$TIMEOUT")
    args+=("${EXTRA_HELM_ARGS[@]}")
    log "installing release $RELEASE in namespace $NAMESPACE (profile: $PROFILE)"
    run helm "${args[@]}"
    if [[ $DRY_RUN -eq 0 ]]; then
        kubectl -n "$NAMESPACE" get pods -l "app.kubernetes.io/instance=$RELEASE" || true
    fi
    log "done; 'helm -n $NAMESPACE status $RELEASE' shows how to reach the API and Grafana"
}

cmd_cleanup() {
    check_prerequisites cleanup
    if [[ $FORCE -eq 1 ]]; then
        log "cleanup --force: deleting release $RELEASE, its volumes and (if created here) namespace $NAMESPACE"
    else
        confirm "uninstall release $RELEASE from namespace $NAMESPACE (volumes are kept)?" || die "cancelled"
    fi
    if helm status "$RELEASE" --namespace "$NAMESPACE" >/dev/null 2>&1; then
        run helm uninstall "$RELEASE" --namespace "$NAMESPACE" --wait --timeout "$TIMEOUT"
    else
        log "release $RELEASE is not installed in $NAMESPACE"
    fi
    if [[ $FORCE -eq 0 ]]; then
        log "kept: volumes (kubectl -n $NAMESPACE get pvc -l app.kubernetes.io/instance=$RELEASE) and namespace $NAMESPACE"
        return 0
    fi
    # StatefulSet volume claims outlive the release; with --force they go too.
    run kubectl delete pvc --namespace "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE" --ignore-not-found --timeout="$TIMEOUT"
    case "$NAMESPACE" in
        default | kube-system | kube-public | kube-node-lease)
            log "namespace $NAMESPACE is a system namespace: kept"
            ;;
        *)
            if [[ -n "$(kubectl get namespace "$NAMESPACE" -l "$NS_MARK_LABEL" -o name 2>/dev/null || true)" ]]; then
                run kubectl delete namespace "$NAMESPACE" --ignore-not-found --timeout="$TIMEOUT"
            else
                log "namespace $NAMESPACE was not created by this script: kept"
            fi
            ;;
    esac
    log "cleanup --force done"
}

main() {
    local command=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
            deploy | cleanup | redeploy)
                [[ -z "$command" ]] || die "only one command at a time (got '$command' and '$1')"
                command="$1"
                ;;
            -n | --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift ;;
            -r | --release) RELEASE="${2:?--release needs a value}"; shift ;;
            -p | --profile) PROFILE="${2:?--profile needs a value}"; shift ;;
            -i | --image) IMAGE="${2:?--image needs a value}"; shift ;;
            --timeout) TIMEOUT="${2:?--timeout needs a value}"; shift ;;
            --no-build) BUILD=0 ;;
            --push) PUSH=1 ;;
            --no-wait) WAIT=0 ;;
            -f | --force) FORCE=1 ;;
            -y | --yes) ASSUME_YES=1 ;;
            --dry-run) DRY_RUN=1 ;;
            -h | --help | help) usage; exit 0 ;;
            --) shift; EXTRA_HELM_ARGS=("$@"); break ;;
            *) usage >&2; die "unknown argument '$1'" ;;
        esac
        shift
    done
    [[ -n "$command" ]] || { usage >&2; die "no command given (deploy, cleanup, cleanup --force, redeploy)"; }
    case "$command" in
        deploy) cmd_deploy ;;
        cleanup) cmd_cleanup ;;
        redeploy)
            check_prerequisites deploy
            cmd_cleanup
            cmd_deploy
            ;;
    esac
}

main "$@"
