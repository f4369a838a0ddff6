// Package execform is the exec-form rule: shell-form CMD and ENTRYPOINT
// without shell syntax are written in the JSON exec form.
package execform
