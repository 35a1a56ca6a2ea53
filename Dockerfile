# nlpd container image: build with a pinned Rust toolchain, run on a small pinned Debian.
#
#   docker build -t nlpd .
#   docker run --rm -p 8080:8080 nlpd
#
# The default image serves the CNN pipeline compiled into the binary. The `trf` target
# serves the transformer pipeline (models/en_ewt_trf.nlpd, docs/transformer.md) instead:
#
#   docker build --target trf -t nlpd:trf .
#
# Images are pinned by tag (the exact Rust release and Debian point release). Pin them by
# digest as well (`rust:1.95.0-slim-bookworm@sha256:…`) once you can resolve the digests
# against your registry; the builder and the runtime must stay on the same Debian release
# (bookworm, glibc 2.36) because the binary links against the builder's glibc.

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=debian:12.11-slim

# ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
WORKDIR /src

# Dependency layer: compile every crate in Cargo.lock against stub sources, so that editing
# the project's own code reuses this layer and only recompiles nlpd itself. Benches are
# declared in Cargo.toml, and cargo refuses a manifest whose declared targets are missing.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir src \
    && printf '//! Dependency-cache stub.\n' > src/lib.rs \
    && printf 'fn main() {}\n' > src/main.rs \
    && cargo build --release --locked --bin nlpd \
    && rm -rf src

# The real build. COPY keeps the files' original modification times, which can be older
# than the stub's build artefacts: touch the sources so cargo cannot mistake the stub
# build for a fresh one. The default config and model are compiled into the binary.
COPY . .
RUN find src -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bin nlpd \
    && install -D -m 0755 target/release/nlpd /out/nlpd

# ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime-base

# No package is installed: the HEALTHCHECK below is the binary's own `nlpd healthcheck`,
# so the image needs neither curl (libcurl, OpenSSL, Kerberos, LDAP: about 15 MB) nor
# busybox (bookworm's busybox-static 1.35 has no `wget -T` and crashes on it).
RUN groupadd --system --gid 10001 nlpd \
    && useradd --system --uid 10001 --gid nlpd --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nlpd

COPY --from=builder /out/nlpd /usr/local/bin/nlpd

# Every setting has a compiled-in default; override any of them with
# NLPD_<SECTION>__<KEY>. Inside a container the service must listen on all interfaces
# and logs are JSON lines for the log collector.
ENV NLPD_SERVER__LISTEN=0.0.0.0:8080 \
    NLPD_LOG__FORMAT=json

# A numeric user lets Kubernetes verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080

# Liveness only: /healthz answers while the process runs. Readiness (/readyz) is for load
# balancers and Kubernetes; a draining replica must not be reported unhealthy.
# `nlpd healthcheck` reads the same settings as `nlpd serve` (so NLPD_SERVER__LISTEN moves
# the probe with the port), never loads the model, and gives up after 2 s.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/nlpd", "healthcheck", "--timeout", "2"]

# Exec form: nlpd is PID 1 and receives SIGTERM itself. It installs its own SIGTERM
# handler (go not-ready, drain, exit 0) and starts no child processes, so no init
# (tini) is needed to forward signals or reap zombies.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/nlpd"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------
# The transformer pipeline's variant: the same binary reading the model file from the image
# ([model] path). It loads in about a second, well inside the HEALTHCHECK's start period.
FROM runtime-base AS trf
COPY models/en_ewt_trf.nlpd /usr/share/nlpd/en_ewt_trf.nlpd
ENV NLPD_MODEL__PATH=/usr/share/nlpd/en_ewt_trf.nlpd

# ---------------------------------------------------------------------------------------
# The default image (the last stage, what a plain `docker build` gives): the CNN pipeline.
FROM runtime-base AS runtime
