// Package imageref finds the image references of a Dockerfile (FROM,
// COPY --from, RUN --mount=from) as the user wrote them, and says what is
// known about an image; rebase, pin, multi-stage and non-root share it.
package imageref
