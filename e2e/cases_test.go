//go:build e2e

package e2e

import "time"

// A testCase is one folder under fixtures/e2e/ (a small application and its
// Dockerfile) plus what the suite expects of it. Adding a case is one folder
// and one row in cases.
type testCase struct {
	// Name is the folder under fixtures/e2e/.
	Name string
	// Rules are passed to hardenfix with --enable: the rewrite uses exactly
	// these rules.
	Rules []string
	// Args are more hardenfix flags. ${REGISTRY} in them becomes the local
	// registry's host:port (for --registry-mirror docker.io=${REGISTRY}).
	Args []string
	// Changed says hardenfix must change the Dockerfile; when false it must
	// leave it as it is.
	Changed bool
	// Registry pushes the case's base images to the local registry before
	// hardenfix runs, so rules that look images up (pin) find them.
	Registry bool
	// PinByHand pins every base image (FROM name:tag@sha256:...) with the
	// digest from the local registry before hardenfix runs, standing in for
	// the pin rule until it exists. It implies Registry.
	PinByHand bool

	// Run are the arguments after the image for a one-shot application
	// (none: the image's own CMD). Its output must contain Want.
	Run []string
	// Serve, when set, makes the case a server: the image runs with its own
	// command and Serve.Client runs inside the same container over loopback.
	// The client's output must contain Want.
	Serve *probe
	// Want is what the application must print, in both images.
	Want string

	// UID is the user the rewritten image must run as: "" when hardenfix
	// must not change it (the same user as the original), else a numeric
	// UID that must be both the image config's User and what `id -u` prints.
	UID string
	// IDCmd prints the user id in images that have no `id` (no shell, e.g.
	// distroless); it replaces the entrypoint.
	IDCmd []string
	// SizeSlack is how many bytes the rewritten image may exceed the
	// original by (default 0: not larger at all). Creating a system user
	// (non-root) adds about 18 kB (13 kB in /etc, its home from /etc/skel):
	// give such rows 24 << 10.
	SizeSlack int64
}

// A probe is a request to a server over loopback inside its own container.
type probe struct {
	// Port is the port the server listens on; ${PORT} in Client becomes it.
	Port int
	// RewrittenPort, when set, is the port of the rewritten image's server
	// (nginx moved onto nginx-unprivileged listens on 8080, not 80).
	RewrittenPort int
	// Client runs with `podman exec` inside the server's container and
	// prints the answer.
	Client []string
	// Timeout is how long the server has to answer (default 30s).
	Timeout time.Duration
}

var cases = []testCase{
	{
		// The official nginx image runs as root on port 80; non-root moves
		// it onto nginxinc/nginx-unprivileged (uid 101, port 8080), and
		// EXPOSE and the HEALTHCHECK follow. Both serve the page.
		Name:  "nginx-site",
		Rules: []string{"non-root"},
		// The catalog knows the tag exists; online, the tag would be
		// looked up on Docker Hub, which these machines cannot reach.
		Args:      []string{"--offline"},
		UID:       "101",
		SizeSlack: 16 << 10, // the unprivileged stand-in's edited config files
		Changed:   true,
		Serve: &probe{
			Port:          80,
			RewrittenPort: 8080,
			Client:        []string{"curl", "-fsS", "http://127.0.0.1:${PORT}/"},
		},
		Want: "nginx serves the answer: 42",
	},
	{
		// php:*-apache starts Apache as root only to bind port 80;
		// non-root moves it to 8080 in the image's own configuration
		// and runs it as www-data (33), whose workers it already ran as.
		Name:      "php-apache-site",
		Rules:     []string{"non-root"},
		UID:       "33",
		SizeSlack: 16 << 10, // the RUN that moves the Listen rewrites two config files
		Changed:   true,
		Serve: &probe{
			Port:          80,
			RewrittenPort: 8080,
			Client:        []string{"curl", "-fsS", "http://127.0.0.1:${PORT}/"},
		},
		Want: "PHP 8 says six times seven is 42",
	},
	{
		// The .NET 8+ images already have user and group app (1654):
		// non-root runs as it instead of failing on groupadd app.
		Name:    "dotnet-app",
		Rules:   []string{"non-root"},
		UID:     "1654",
		Changed: true,
		Want:    "the worker says 42",
	},
	{
		// The created user has a home it owns, so a tool that caches
		// in HOME at run time still works.
		Name:      "home-cache",
		Rules:     []string{"non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10,
		Changed:   true,
		Want:      "cached the answer 42",
	},
	{
		// A VOLUME the process writes: the folder is made and handed to
		// the new user before the VOLUME, so the volume the container
		// gets (podman copies the image's folder, owner included) is the
		// user's.
		Name:      "volume-data",
		Rules:     []string{"non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10,
		Changed:   true,
		Want:      "kept 42 in the volume",
	},
	{
		// An empty folder the build makes and an ENV names: handed to the
		// new user with RUN chown right before the USER.
		Name:      "data-dir",
		Rules:     []string{"non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10,
		Changed:   true,
		Want:      "kept 42 in /var/lib/keeper",
	},
	{
		// WORKDIR /root: the application moves to /app, which the new
		// user can enter (root's home is mode 0700).
		Name:      "root-home",
		Rules:     []string{"non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10,
		Changed:   true,
		Want:      "the answer is 42 from ",
	},
	{
		Name:      "add-to-copy",
		Rules:     []string{"add-to-copy", "non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10, // the app user: about 18 kB in /etc and its home
		Changed:   true,
		Want:      "hello from an unpacked archive\nWhat is six times seven? 42",
	},
	{
		Name:    "go-app",
		Rules:   []string{"add-to-copy", "non-root"},
		UID:     "65532", // already nonroot: non-root only states it
		Changed: true,
		Serve: &probe{
			Port:   8080,
			Client: []string{"/answer", "-get", "http://127.0.0.1:${PORT}/answer"},
		},
		Want:  "the answer is 42",
		IDCmd: []string{"/answer", "-uid"},
	},
	{
		Name:      "python-app",
		Rules:     []string{"add-to-copy", "non-root"},
		UID:       "10001",
		SizeSlack: 24 << 10,
		Changed:   true,
		Serve: &probe{
			Port:   8000,
			Client: []string{"python", "-c", "import urllib.request as u; print(u.urlopen('http://127.0.0.1:${PORT}/answer').read().decode())"},
		},
		Want: `"answer": 42`,
	},
	{
		Name:  "node-app",
		Rules: []string{"add-to-copy", "non-root"},
		// The node images have user node (1000) with a home: run as it.
		UID:       "1000",
		SizeSlack: 24 << 10,
		Changed:   true,
		Serve: &probe{
			Port:   3000,
			Client: []string{"node", "-e", "require('http').get('http://127.0.0.1:${PORT}/answer', r => r.pipe(process.stdout)).on('error', e => { console.error(e.message); process.exit(1) })"},
		},
		Want: "node says the answer is 42",
	},
	{
		// multi-stage splits the build off: the final stage is the
		// distroless-like static image and runs as its nonroot user.
		Name:    "go-single",
		Rules:   []string{"multi-stage", "non-root"},
		Changed: true,
		Want:    "six times seven is 42",
		UID:     "65532",
		IDCmd:   []string{"/usr/local/bin/answer", "-uid"},
	},
	{
		// multi-stage keeps npm and the compilers in the build stage and
		// copies the built app onto the slim image.
		Name:  "node-build",
		Rules: []string{"multi-stage", "non-root"},
		// The node runtime image's own user node (1000).
		UID:     "1000",
		Changed: true,
		Serve: &probe{
			Port:   3000,
			Client: []string{"node", "-e", "require('http').get('http://127.0.0.1:${PORT}/', r => r.pipe(process.stdout)).on('error', e => { console.error(e.message); process.exit(1) })"},
		},
		Want: "built at build time: the answer is 42",
	},
	{
		// The container runs `npm run dev` (node --watch): a development
		// image, which multi-stage leaves whole; only non-root changes it.
		Name:    "node-dev",
		Rules:   []string{"multi-stage", "non-root"},
		UID:     "1000", // the image's own node user
		Changed: true,
		Serve: &probe{
			Port:   3000,
			Client: []string{"node", "-e", "require('http').get('http://127.0.0.1:${PORT}/', r => r.pipe(process.stdout)).on('error', e => { console.error(e.message); process.exit(1) })"},
		},
		Want: "the dev server says the answer is 42",
	},
	{
		// multi-stage builds the C extension into a virtual environment in
		// the build stage and copies it onto the slim image, which has no
		// compiler.
		Name:    "python-ext",
		Rules:   []string{"multi-stage", "non-root"},
		UID:     "10001",
		Changed: true,
		Serve: &probe{
			Port:   8000,
			Client: []string{"python", "-c", "import urllib.request as u; print(u.urlopen('http://127.0.0.1:${PORT}/').read().decode())"},
		},
		Want: "the extension says 42",
	},
	{
		// gradle builds in the image's own WORKDIR (/home/gradle): the
		// split copies the jar from there onto the JRE, and the relative
		// WORKDIR after the build resolves to the same folder.
		Name:    "gradle-app",
		Rules:   []string{"multi-stage", "non-root"},
		UID:     "10001",
		Changed: true,
		Want:    "the jar in /home/gradle/build/libs says 42",
	},
	{
		// The app shells out to unzip, which the build stage installs with
		// apt: the slim final stage installs it too.
		Name:    "node-tools",
		Rules:   []string{"multi-stage", "non-root"},
		UID:     "1000", // the image's own node user
		Changed: true,
		Want:    "unzip read: the answer is 42",
	},
	{
		// The pin rule looks the base image up in the local registry and
		// writes its digest; the rewritten image builds from that digest.
		Name:     "pinned",
		Rules:    []string{"add-to-copy", "pin"},
		Args:     []string{"--registry-mirror", "docker.io=${REGISTRY}", "--insecure-registry", "${REGISTRY}", "--no-cache"},
		Changed:  true,
		Registry: true,
		Want:     "built from a pinned base image",
	},
}
