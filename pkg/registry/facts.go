package registry

import (
	"slices"
	"strings"
)

// ImageFacts is what rules need to know about a base image, whether it comes
// from the catalog of verified publishers or from a registry lookup.
type ImageFacts struct {
	// Repository is the normalised repository, e.g. docker.io/library/node.
	Repository string
	// Publisher and Verification name who publishes the image and how it
	// is verified: official, verified-publisher, redhat, distroless,
	// chainguard, microsoft; empty when the image is not verified.
	Publisher, Verification string
	// Family is the OS family: debian, ubuntu, alpine, rhel, fedora, suse,
	// amazonlinux, wolfi, distroless, scratch, windows; "" when unknown.
	Family string
	// Libc is glibc or musl; "" when unknown or none.
	Libc string
	// HasShell is true when /bin/sh exists in the image.
	HasShell bool
	// PackageManager is apt, apk, dnf, microdnf, yum, zypper, tdnf or "".
	PackageManager string
	// HasShadowUtils is true when useradd/groupadd exist (RHEL family:
	// ubi has them, ubi-minimal and ubi-micro do not).
	HasShadowUtils bool
	// User and UID are the image's default user; UID is -1 when unknown.
	User string
	UID  int
	// AppUser and AppUID are a non-root account the image already has
	// but does not run as by default (.NET 8+: app 1654; node: node
	// 1000); AppUID is -1 when there is none or it is not known.
	AppUser string
	AppUID  int
	// DropsPrivileges marks images whose entrypoint starts as root and
	// drops to a service user itself (gosu, su-exec): postgres, redis, ...
	DropsPrivileges bool
	// NeedsRoot marks images that need root by design, with the verified
	// image to use instead when there is one (nginx →
	// nginxinc/nginx-unprivileged).
	NeedsRoot  bool
	NonRootAlt string
	// WorkingDir is the image's working directory (an absolute path, "/"
	// when the image sets none); "" when unknown.
	WorkingDir string
	// AppUIDEnv names the variable the image's config sets (ENV) to
	// AppUID, which a Dockerfile built on it may use (USER $APP_UID:
	// .NET 8+); "" when none is known.
	AppUIDEnv string
	// Ships names packages the image has installed (ca-certificates);
	// nil when none is known.
	Ships []string
}

// HasPackage reports whether the image is known to ship pkg.
func (f ImageFacts) HasPackage(pkg string) bool {
	return slices.Contains(f.Ships, pkg)
}

// NonRoot reports whether the image's default user is known to be non-root
// (on Windows: not ContainerAdministrator, the administrator account).
func (f ImageFacts) NonRoot() bool {
	return f.UID > 0 || (f.UID < 0 && f.User != "" && f.User != "root" && !strings.EqualFold(f.User, "ContainerAdministrator"))
}

// ImageInfo answers what is known about the image a FROM names, written as
// it stands after ARG expansion ("python:3.12-slim",
// "gcr.io/distroless/static-debian12:nonroot"). The catalog implements it;
// ok is false when nothing is known.
type ImageInfo interface {
	Facts(image string) (facts ImageFacts, ok bool)
}
