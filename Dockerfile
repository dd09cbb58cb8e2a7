# The image of the mlguard GitHub Action (action.yml: runs.using docker, image Dockerfile).
# Both base images are pinned by digest (the multi-platform index); Dependabot (.github/dependabot.yml) bumps them.
# test/e2e/container.sh builds this file's final stage FROM scratch and runs it the way the runner does: keep the
# final stage to COPY --from=build and ENTRYPOINT lines.

# golang:1.26-bookworm (Go 1.26.7)
FROM golang:1.26-bookworm@sha256:38f30937ff0751bd8c202e53556168b9093302ee6d591e7e65a9d1b84a9d360c AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
# The modules in a layer of their own: downloaded again only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN go build -trimpath -ldflags='-s -w' -o /out/mlguard ./cmd/mlguard

# gcr.io/distroless/static-debian12 (the root variant, not :nonroot): CA certificates, tzdata, no shell.
FROM gcr.io/distroless/static-debian12@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2
COPY --from=build /out/mlguard /usr/local/bin/mlguard
# No USER instruction, on purpose: GitHub runs Docker container actions as root and mounts the workspace and
# the file commands directory (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) owned by the runner's user; another user could
# not read a private checkout's files or write the outputs, summary and SARIF file. test/e2e/container.sh fails if
# a USER line appears.
ENTRYPOINT ["/usr/local/bin/mlguard"]
