// Package buildctx reads files of the build context without following a
// symbolic link out of it.
package buildctx
