// Package image holds the rules about base images: rebase (FROM onto
// verified publishers' images) and pin (digests on every image reference).
package image
