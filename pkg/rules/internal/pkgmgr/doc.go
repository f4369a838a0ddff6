// Package pkgmgr holds what the package-manager rules share: walking the
// RUN commands of a file, reading a command's options and subcommand, and
// appending to a RUN.
package pkgmgr
