#!/usr/bin/env bash
# Installs what examples/platform/services.toml runs: the Debian packages that are missing,
# without leaving any of their system services running, and the local provisioning-base
# image of the `web` service when Docker answers.
#
#   bash examples/platform/install-deps.sh           install what is missing (needs root or sudo)
#   bash examples/platform/install-deps.sh --check   exit 0 if all is there, 1 otherwise
#   bash examples/platform/install-deps.sh --missing print the missing packages, one a line
#
# Debian's postinst scripts start a package's system service through invoke-rc.d (redis on
# :6379, nginx on :80, docker-registry on :5000). The example runs its own foreground copies
# on other ports, so the script forbids those starts while it installs: it writes a
# /usr/sbin/policy-rc.d that answers 101 ("action forbidden") and removes it afterwards,
# unless one already existed, which is then left alone. As a second guard, a system
# instance that appears during the install is stopped again through its init system.
# (On a systemd machine the units stay enabled for the next boot; they use other ports.)
set -euo pipefail

# Each entry: "package-to-install[|other packages that also satisfy it]".
REQUIREMENTS=(
  "docker-registry"                                       # /usr/bin/docker-registry (CNCF distribution)
  "redis-server"                                          # /usr/bin/redis-server
  "redis-tools"                                           # /usr/bin/redis-cli, the health check
  "nginx|nginx-light|nginx-core|nginx-full|nginx-extras"  # /usr/sbin/nginx
  "dnsmasq-base"                                          # /usr/sbin/dnsmasq, without the system service
  "busybox-static"                                        # static busybox for the provisioning-base image
)
# System services the packages above may start: "service-name:binary".
SYSTEM_SERVICES=("docker-registry:/usr/bin/docker-registry" "redis-server:/usr/bin/redis-server" "nginx:/usr/sbin/nginx")
POLICY=/usr/sbin/policy-rc.d
# The image of the `web` service; the same as provisioning's src/docker/base-image.ts builds.
BASE_IMAGE=provisioning-base:busybox
BASE_DOCKERFILE='FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
'

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

check_only=false
case "${1:-}" in
  "") ;;
  --check) check_only=true ;;
  --missing) list_only=true ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install-deps.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing_packages() {
  local requirement package satisfied
  local -a choices
  for requirement in "${REQUIREMENTS[@]}"; do
    satisfied=false
    IFS='|' read -r -a choices <<<"$requirement"
    for package in "${choices[@]}"; do
      if installed "$package"; then satisfied=true; break; fi
    done
    $satisfied || echo "${choices[0]}"
  done
}

docker_answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

base_image_present() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1
}

mapfile -t missing < <(missing_packages)
if [[ "${list_only:-false}" == true ]]; then
  ((${#missing[@]} == 0)) || printf '%s\n' "${missing[@]}"
  exit 0
fi
image_missing=false
docker_ok=false
if docker_answers; then
  docker_ok=true
  base_image_present || image_missing=true
fi

if $check_only; then
  status=0
  if ((${#missing[@]} > 0)); then
    echo "missing Debian packages: ${missing[*]}"
    status=1
  fi
  if $image_missing; then
    echo "missing Docker image: $BASE_IMAGE (for the web service)"
    status=1
  fi
  $docker_ok || echo "note: Docker does not answer; the web service (mode docker) cannot start here"
  if ((status == 0)); then
    echo "all packages of examples/platform are installed"
  else
    echo "install them with: bash $0"
  fi
  exit "$status"
fi

SUDO=()
if ((EUID != 0)) && ((${#missing[@]} > 0)); then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps.sh: installing ${missing[*]} needs root, and sudo is not available" >&2
    exit 1
  fi
fi

install_packages() {
  # PIDs of each system service's binary before the install, to spot instances it starts.
  local -A before=()
  local entry service binary pid now new still
  for entry in "${SYSTEM_SERVICES[@]}"; do
    before[${entry%%:*}]="$(pidof "${entry#*:}" 2>/dev/null || true)"
  done

  if [[ -e "$POLICY" ]]; then
    echo "keeping the existing $POLICY (services the install starts are stopped below)"
  else
    printf '#!/bin/sh\n# written by provisioning examples/platform/install-deps.sh while it installs\nexit 101\n' |
      "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    created_policy=true
  fi

  echo "installing: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  remove_policy

  # Second guard: stop any system instance that was not running before and runs now.
  for entry in "${SYSTEM_SERVICES[@]}"; do
    service=${entry%%:*} binary=${entry#*:}
    now="$(pidof "$binary" 2>/dev/null || true)"
    new=false
    for pid in $now; do
      [[ " ${before[$service]} " == *" $pid "* ]] || new=true
    done
    $new || continue
    echo "the install started the system service $service; stopping it"
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      "${SUDO[@]}" systemctl stop "$service" || true
    elif [[ -x "/etc/init.d/$service" ]]; then
      "${SUDO[@]}" "/etc/init.d/$service" stop || true
    fi
    sleep 1
    still=""
    for pid in $(pidof "$binary" 2>/dev/null || true); do
      [[ " ${before[$service]} " == *" $pid "* ]] || still+=" $pid"
    done
    if [[ -n "$still" ]]; then
      echo "warning: $binary is still running (PID$still); stop it by hand" >&2
    fi
  done
  echo "installed: ${missing[*]}"
}

created_policy=false
remove_policy() {
  if $created_policy; then
    "${SUDO[@]}" rm -f "$POLICY"
    created_policy=false
  fi
}
trap remove_policy EXIT

build_base_image() {
  local context
  context="$(mktemp -d)"
  cp /bin/busybox "$context/busybox"
  printf '%s' "$BASE_DOCKERFILE" >"$context/Dockerfile"
  echo "building the Docker image $BASE_IMAGE from Debian's static busybox"
  if ! docker build -q --label provisioning.image=base -t "$BASE_IMAGE" "$context" >/dev/null; then
    rm -rf "$context"
    echo "install-deps.sh: building $BASE_IMAGE failed" >&2
    return 1
  fi
  rm -rf "$context"
}

if ((${#missing[@]} > 0)); then
  install_packages
else
  echo "all packages of examples/platform are installed"
fi

if $image_missing; then
  build_base_image
elif ! $docker_ok; then
  echo "note: Docker does not answer; the web service (mode docker) needs it, the others do not"
fi
