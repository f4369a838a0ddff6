// Package e2e is the end-to-end suite (DESIGN §7): for every case under
// fixtures/e2e/ it builds the original Dockerfile and the one hardenfix
// rewrote with buildah, runs both images with podman, and checks that the
// application still does its job, runs as the expected user, and did not
// grow.
//
// The tests carry the e2e build tag, so `go test ./...` stays fast and
// offline. Run them with e2e/run.sh, which installs the tools, keeps all
// container storage and config in a work folder, makes the Debian base and
// the stand-in images, and then runs `go test -tags e2e ./e2e/`. See
// e2e/README.md.
package e2e
