// Package maintainer is the maintainer rule: the deprecated MAINTAINER
// instruction becomes the OCI authors label.
package maintainer
