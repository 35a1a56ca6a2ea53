# shellcheck shell=bash
# The container engine and the local base images, for scripts/container-test.sh (sourced).
#
# No container registry is reachable from CI, so every image the Dockerfile and
# docker-compose.yml name is made here from Debian packages and tagged with that very name:
#
#   docker.io/library/debian:12.11-slim        debootstrap --variant=minbase bookworm
#   docker.io/library/rust:1.95.0-slim-bookworm the base + this machine's Rust toolchain
#   docker.io/library/nginx:1.28.0             the base + Debian's nginx-light, envsubst
#   docker.io/prom/prometheus:v3.1.0           the base + Debian's prometheus
#
# so that `podman build .` and `docker-compose up` run the project's files unchanged and
# never try a registry. Each image is made once per engine store (CONTAINER_STORE) and kept.
# Debian's archive serves only the latest bookworm point release: "12.11" is a name here.

# Where podman keeps images and containers; kept between runs so base images are reused.
CONTAINER_STORE="${NLPD_CONTAINER_STORE:-/var/tmp/nlpd-podman}"
# The Docker API socket that docker-compose talks to (podman's compatible service).
PODMAN_SOCKET="$CONTAINER_STORE/podman.sock"

DEBIAN_IMAGE=docker.io/library/debian:12.11-slim
RUST_IMAGE=docker.io/library/rust:1.95.0-slim-bookworm
NGINX_IMAGE=docker.io/library/nginx:1.28.0
PROMETHEUS_IMAGE=docker.io/prom/prometheus:v3.1.0

# engine_setup installs podman, runc, debootstrap and docker-compose, and configures podman:
# its own store, the runc runtime and explicit rlimits (the defaults fail in this sandbox).
engine_setup() {
    ensure_commands podman:podman runc:runc debootstrap:debootstrap \
        docker-compose:docker-compose iptables:iptables curl:curl
    mkdir -p "$CONTAINER_STORE"
    cat >"$CONTAINER_STORE/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CONTAINER_STORE/storage"
runroot = "$CONTAINER_STORE/run"
EOF
    cat >"$CONTAINER_STORE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
    export CONTAINERS_STORAGE_CONF="$CONTAINER_STORE/storage.conf"
    export CONTAINERS_CONF="$CONTAINER_STORE/containers.conf"
}

# debian_mirror prints the Debian archive this machine's apt uses.
debian_mirror() {
    local mirror
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [[ -n $mirror ]] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    [[ -n $mirror ]] || die "no Debian archive in /etc/apt/sources.list.d/debian.sources or sources.list"
    printf '%s\n' "$mirror"
}

# make_debian_image builds $DEBIAN_IMAGE with debootstrap, trimmed as the slim image is.
make_debian_image() {
    local root mirror
    root=$(mktemp -d /var/tmp/nlpd-rootfs.XXXXXX)
    mirror=$(debian_mirror)
    log "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null \
        || die "debootstrap failed"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
        "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
        "$root"/usr/share/locale/* "$root"/etc/apt/sources.list
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # As the official slim image: no package cache, no documentation, no locales.
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
        'path-exclude /usr/share/info/*' >"$root/etc/dpkg/dpkg.cfg.d/docker"
    tar -C "$root" -c . | podman import -q --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null \
        || die "podman import failed"
    rm -rf "$root"
}

# make_rust_image builds $RUST_IMAGE from the base and the host's Rust toolchain.
make_rust_image() {
    local context sysroot release
    context=$(mktemp -d /var/tmp/nlpd-rust-image.XXXXXX)
    sysroot=$(rustc --print sysroot)
    release=$(rustc --version | awk '{print $2}')
    [[ $RUST_IMAGE == *":$release-"* ]] \
        || die "the host's Rust is $release; the Dockerfile pins ${RUST_IMAGE##*:}"
    mkdir -p "$context/rustup/toolchains" "$context/cargo/bin" "$context/extra-ca"
    cp -a "$sysroot" "$context/rustup/toolchains/$release-x86_64-unknown-linux-gnu"
    rm -rf "$context/rustup/toolchains/$release-x86_64-unknown-linux-gnu/share/doc"
    printf 'version = "12"\ndefault_toolchain = "%s-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' \
        "$release" >"$context/rustup/settings.toml"
    cp "$(command -v rustup)" "$context/cargo/bin/"
    for tool in cargo rustc rustdoc; do ln -s rustup "$context/cargo/bin/$tool"; done
    cp /usr/local/share/ca-certificates/*.crt "$context/extra-ca/" 2>/dev/null || true
    podman build -q --pull=never --network host -f "$ROOT/scripts/container/rust.Containerfile" \
        -t "$RUST_IMAGE" "$context" >/dev/null || die "building $RUST_IMAGE failed"
    rm -rf "$context"
}

# make_standin_image IMAGE CONTAINERFILE builds a stand-in from the base image.
make_standin_image() {
    podman build -q --pull=never --network host -f "$2" -t "$1" "$(dirname "$2")" >/dev/null \
        || die "building $1 from $2 failed"
}

# ensure_image IMAGE COMMAND... runs COMMAND to make IMAGE unless the store has it.
ensure_image() {
    local image=$1
    shift
    if podman image exists "$image"; then
        log "image $image: already in the store"
    else
        log "image $image: making it"
        "$@"
    fi
}

# base_images makes every image the Dockerfile and docker-compose.yml name.
base_images() {
    ensure_image "$DEBIAN_IMAGE" make_debian_image
    ensure_image "$RUST_IMAGE" make_rust_image
    ensure_image "$NGINX_IMAGE" make_standin_image "$NGINX_IMAGE" \
        "$ROOT/scripts/container/nginx.Containerfile"
    ensure_image "$PROMETHEUS_IMAGE" make_standin_image "$PROMETHEUS_IMAGE" \
        "$ROOT/scripts/container/prometheus.Containerfile"
}
