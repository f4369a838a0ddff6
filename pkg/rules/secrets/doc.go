// Package secrets is the opt-in secrets rule: credential build arguments
// used only in RUN move into secret mounts.
package secrets
