// Package testhook holds switches that the rewrite package's tests and
// rewritetest turn on: checks too costly for ordinary runs.
package testhook

import "sync/atomic"

// CheckReparse makes every incremental re-parse compare its Document with
// a full parse of the same text and panic when they differ.
var CheckReparse atomic.Bool
