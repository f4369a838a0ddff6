package registry

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Server is what the catalog knows about a web server image's runtime
// layout: the facts a rule needs to move it to an unprivileged setup (nginx
// onto nginxinc/nginx-unprivileged; Apache onto a port above 1023 and the
// image's own user). Every value comes from the image's Dockerfile, named by
// the row's source.
type Server struct {
	// Kind is the server: nginx, apache2 (Debian's packaging, php:*-apache)
	// or httpd (the official httpd image's source build).
	Kind string `yaml:"kind"`
	// Tags is a shell glob on the tags these facts hold for ("*apache*"
	// for php); empty: every tag.
	Tags string `yaml:"tags,omitempty"`
	// Port is the port the image's default configuration listens on.
	Port int `yaml:"port"`
	// PidFile is where the image's configuration writes the pid.
	PidFile string `yaml:"pid-file,omitempty"`
	// ConfigFiles are the files of the image that hold the Listen
	// directive and the default virtual host (Apache).
	ConfigFiles []string `yaml:"config-files,omitempty"`
	// RuntimeDirs are the directories the server writes at run time (pid,
	// lock, logs) with whether the image already lets the run user write
	// them (mode 1777 or owned by it).
	RuntimeDirs []RuntimeDir `yaml:"runtime-dirs,omitempty"`
	// RunUser and RunUID are the unprivileged account the server's
	// workers run as, which the whole server may run as.
	RunUser string `yaml:"run-user,omitempty"`
	RunUID  int    `yaml:"run-uid,omitempty"`
	// PublishedTags are the tags known to be published, so a rule that
	// moves an image onto this one offline only writes a tag that exists.
	PublishedTags []PublishedTag `yaml:"published-tags,omitempty"`
	// AlpineRunUID is RunUID on the Alpine variants (www-data is 82 there).
	AlpineRunUID int `yaml:"alpine-run-uid,omitempty"`
}

// For reports whether the facts hold for tag ("" is latest).
func (s *Server) For(tag string) bool {
	if s == nil {
		return false
	}
	if s.Tags == "" {
		return true
	}
	if tag == "" {
		tag = "latest"
	}
	ok, _ := path.Match(s.Tags, tag)
	return ok
}

// RuntimeDir is a directory a server writes when it runs.
type RuntimeDir struct {
	Path string `yaml:"path"`
	// Writable is true when the image already lets RunUser write there.
	Writable bool `yaml:"writable"`
}

// PublishedTag is a regular expression on tags and the first release whose
// tags of that form are published ("" for every release, and for tags that
// name no release: latest, stable, alpine).
type PublishedTag struct {
	Match string `yaml:"match"`
	Since string `yaml:"since,omitempty"`
	re    *regexp.Regexp
}

var leadingVersion = regexp.MustCompile(`^(\d+)(?:\.(\d+))?`)

// Publishes reports whether tag ("" is latest) is known to be published:
// it matches a published-tags pattern and, when the tag names a release of
// major.minor form, that release is not older than the pattern's since.
func (s *Server) Publishes(tag string) bool {
	if s == nil {
		return false
	}
	if tag == "" {
		tag = "latest"
	}
	for _, p := range s.PublishedTags {
		re := p.re
		if re == nil {
			var err error
			if re, err = regexp.Compile(p.Match); err != nil {
				continue
			}
		}
		if !re.MatchString(tag) {
			continue
		}
		if p.Since == "" || !versionBefore(tag, p.Since) {
			return true
		}
	}
	return false
}

// versionBefore reports whether tag names a major.minor release older than
// since; a tag naming only a major version ("1") is the current release
// of that major, not older.
func versionBefore(tag, since string) bool {
	t, s := leadingVersion.FindStringSubmatch(tag), leadingVersion.FindStringSubmatch(since)
	if t == nil || s == nil || t[2] == "" {
		return false
	}
	tm, _ := strconv.Atoi(t[1])
	sm, _ := strconv.Atoi(s[1])
	if tm != sm {
		return tm < sm
	}
	tn, _ := strconv.Atoi(t[2])
	sn, _ := strconv.Atoi(s[2])
	return tn < sn
}

// validateServer checks a row's server facts.
func validateServer(where string, s *Server) []error {
	if s == nil {
		return nil
	}
	var errs []error
	switch s.Kind {
	case "nginx", "apache2", "httpd":
	default:
		errs = append(errs, fmt.Errorf("%s: server kind must be nginx, apache2 or httpd, not %q", where, s.Kind))
	}
	if _, err := path.Match(s.Tags, ""); err != nil {
		errs = append(errs, fmt.Errorf("%s: server tags %q is not a glob", where, s.Tags))
	}
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s: server port %d is not a port", where, s.Port))
	}
	abs := func(what, p string) {
		if !path.IsAbs(p) || path.Clean(p) != p {
			errs = append(errs, fmt.Errorf("%s: server %s must be a clean absolute path, not %q", where, what, p))
		}
	}
	if s.PidFile != "" {
		abs("pid-file", s.PidFile)
	}
	for _, f := range s.ConfigFiles {
		abs("config-files", f)
	}
	for _, d := range s.RuntimeDirs {
		abs("runtime-dirs", d.Path)
	}
	if (s.RunUser == "") != (s.RunUID == 0) || s.RunUID < 0 || s.AlpineRunUID < 0 {
		errs = append(errs, fmt.Errorf("%s: server run-user and run-uid go together (a non-root uid)", where))
	}
	for i := range s.PublishedTags {
		p := &s.PublishedTags[i]
		re, err := regexp.Compile(p.Match)
		if err != nil || !strings.HasPrefix(p.Match, "^") || !strings.HasSuffix(p.Match, "$") {
			errs = append(errs, fmt.Errorf("%s: published-tags %q must be an anchored regular expression (^...$)", where, p.Match))
			continue
		}
		p.re = re
		if p.Since != "" && leadingVersion.FindString(p.Since) != p.Since {
			errs = append(errs, fmt.Errorf("%s: published-tags since %q must be a version (1.16)", where, p.Since))
		}
	}
	return errs
}
