// Package multistage is the multi-stage rule: it splits a single-stage
// build into a build stage and a minimal runtime stage of the same family.
package multistage
