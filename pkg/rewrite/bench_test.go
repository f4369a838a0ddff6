package rewrite

import "testing"

// wordsSample is a Dockerfile of the everyday kind for the splitters.
const wordsSample = `FROM golang:1.22-bookworm AS build
WORKDIR /src
ADD go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache go mod download
RUN CGO_ENABLED=0 go build \
      -trimpath \
      -ldflags="-s -w" \
      -o /out/server ./cmd/server
FROM debian:bookworm-slim
LABEL org.opencontainers.image.source="https://example.com/app"
RUN apt-get update && \
    apt-get install -y --no-install-recommends ca-certificates tzdata && \
    rm -rf /var/lib/apt/lists/*
ENV APP_HOME=/srv/app \
    APP_PORT=8080
RUN sh -c 'echo "$(id -u)" > /tmp/uid' && [ -d "${APP_HOME}" ] || mkdir -p "${APP_HOME}"
COPY --from=build /out/server /usr/local/bin/server
ENTRYPOINT ["/usr/local/bin/server"]
`

// BenchmarkWords splits every instruction of wordsSample into words
// and every RUN into shell commands, as the rules do on a fresh Document
// (Shell's memo is bypassed).
func BenchmarkWords(b *testing.B) {
	d, err := Parse("Dockerfile", []byte(wordsSample))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range d.Instructions {
			_ = d.Words(in.ArgsSpan)
			if in.Keyword == "RUN" {
				_ = d.splitShell(in)
			}
		}
	}
}
