# Build a static binary, then ship it alone.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cloud2mqtt ./cmd/cloud2mqtt

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cloud2mqtt /usr/local/bin/cloud2mqtt
WORKDIR /data
VOLUME ["/data"]
ENV CLOUD2MQTT_STATE_DIR=/data/state
# Healthy: the broker is connected and no account is in error (asks the
# status page's /healthz at web.listen, so keep the page on).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/cloud2mqtt", "health", "--config", "/data/config.yaml"]
ENTRYPOINT ["/usr/local/bin/cloud2mqtt"]
CMD ["run", "--config", "/data/config.yaml"]
