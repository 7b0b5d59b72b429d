# The workshop server as a small image running as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t workshop .
#
# The image has no PostgreSQL of its own: give it DATABASE_URL (the
# docker-compose.yml next to this file runs PostgreSQL 16 beside it).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The agent's binaries for the students' hosts (served at /downloads/), then
# the server itself: the same static binary for this image's architecture.
RUN set -e; \
    ldflags="-s -w -X main.version=${VERSION} -X github.com/coursekit/workshop/grader/agent.Version=${VERSION}"; \
    mkdir -p /out/downloads /out/data; \
    for arch in amd64 arm64; do \
      CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" \
        -o /out/downloads/workshop-linux-$arch ./cmd/workshop; \
    done; \
    (cd /out/downloads && sha256sum workshop-linux-* > SHA256SUMS); \
    cp /out/downloads/workshop-linux-$(go env GOARCH) /out/workshop

# distroless/static: CA certificates and time zones, no shell, user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/workshop /usr/local/bin/workshop
# Outside the /data volume, so that a new image brings its own binaries.
COPY --from=build /out/downloads /usr/local/share/workshop/downloads
# A named volume mounted on /data starts with this folder's owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV WORKSHOP_ADDR=:8080 \
    WORKSHOP_DATA=/data \
    WORKSHOP_DOWNLOADS=/usr/local/share/workshop/downloads \
    WORKSHOP_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
USER 65532:65532
# No curl in the image: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/workshop", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/workshop"]
CMD ["serve"]
