// Package rewritetest runs golden fixtures through the rewrite pipeline,
// as golang.org/x/tools/go/analysis/analysistest does for analyzers: a rule
// package's test calls Run(t, "testdata", rules.All()), and every fixture's
// output, notes and fixes are compared with its want sections and checked
// against the invariants every run must keep (see Fixture, CheckInvariants).
// Importing it also makes every incremental re-parse in the test binary
// compare itself with a full parse.
package rewritetest
