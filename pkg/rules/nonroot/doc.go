// Package nonroot is the non-root rule: the final stage runs as a non-root
// user, created or reused, unless the image cannot.
package nonroot
