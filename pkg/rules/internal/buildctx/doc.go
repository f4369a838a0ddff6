// Package buildctx reads files of the build context (an Env.BuildContext,
// whose reads cannot leave it) by the source paths a Dockerfile names.
package buildctx
