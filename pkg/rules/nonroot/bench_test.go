package nonroot

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// benchDockerfile is a multi-stage Dockerfile of the size real ones reach:
// a build stage and a runtime stage with package installs, ARG/ENV, COPY
// and a heredoc.
const benchDockerfile = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.23
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends git make \
    && rm -rf /var/lib/apt/lists/*
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM debian:bookworm-slim
ARG APP_HOME=/srv/app
ENV APP_HOME=${APP_HOME} PORT=8080
RUN <<EOF
set -e
apt-get update
apt-get install -y --no-install-recommends ca-certificates tzdata curl
rm -rf /var/lib/apt/lists/*
EOF
WORKDIR ${APP_HOME}
COPY --from=build /out/app /usr/local/bin/app
COPY config/ ./config/
EXPOSE ${PORT}
HEALTHCHECK CMD curl -fsS http://localhost:${PORT}/healthz || exit 1
ENTRYPOINT ["app"]
CMD ["serve"]
`

func BenchmarkNonRoot(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	src := []byte(benchDockerfile)
	rules := []*rewrite.Rule{Rule}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rewrite.Run(context.Background(), "Dockerfile", src, rules, &rewrite.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNonRootLarge is a final stage of many instructions, to keep the
// analysis from growing much faster than the file.
func BenchmarkNonRootLarge(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	for _, n := range []int{100, 1000, 4000} {
		var sb strings.Builder
		sb.WriteString("FROM debian:12\nARG A=1\n")
		for i := range n {
			fmt.Fprintf(&sb, "ENV V%d=$A\nRUN apt-get install -y pkg%d && chown app%d /d%d\n", i, i, i, i)
		}
		sb.WriteString("CMD [\"app\"]\n")
		src := []byte(sb.String())
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := rewrite.Run(context.Background(), "Dockerfile", src, []*rewrite.Rule{Rule}, &rewrite.Env{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
