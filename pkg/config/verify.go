package config

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Verify are the settings of `hardenfix verify` (package verify) for the
// files a configuration covers; Files overrides them for single files.
//
//	verify:
//	  context: ..                 # build context, relative to this file's folder
//	  run: myapp --version        # exec'd inside both containers; same exit code wanted
//	  http: {port: 8080, path: /healthz}
//	  files:
//	    api/Dockerfile:           # a path or glob relative to this file's folder
//	      context: .
type Verify struct {
	VerifySettings `yaml:",inline"`
	// Files maps a path or glob (slash-separated, relative to the
	// configuration file's folder) to the settings of the files it matches;
	// they replace the folder-wide settings field by field.
	Files map[string]VerifySettings `yaml:"files"`
}

// VerifySettings say how to verify one Dockerfile.
type VerifySettings struct {
	// Context is the build context; Parse makes it absolute (relative to
	// the configuration file's folder). Empty: the Dockerfile's folder.
	Context string `yaml:"context"`
	// Run is a command exec'd inside both running containers (or run in a
	// fresh one when the image's own command exits); the rewritten image
	// must give the same exit code.
	Run Command `yaml:"run"`
	// HTTP is a request made from inside the container's network
	// namespace; the rewritten image must answer with the same status.
	HTTP *HTTPProbe `yaml:"http"`
}

// HTTPProbe is a GET of http://127.0.0.1:Port/Path inside the container.
type HTTPProbe struct {
	Port int    `yaml:"port"`
	Path string `yaml:"path"`
}

// URL is the address the probe asks.
func (p HTTPProbe) URL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", p.Port, strings.TrimPrefix(p.Path, "/"))
}

// Command is a command line: a YAML list of arguments, or a string split at
// white space (no shell quoting; write a list, or sh -c, for more).
type Command []string

// UnmarshalYAML accepts a string or a list of strings.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = strings.Fields(n.Value)
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*c = list
	return nil
}

// check validates the settings and makes Context absolute.
func (s *VerifySettings) check(name, key string) error {
	if s.HTTP != nil && (s.HTTP.Port < 1 || s.HTTP.Port > 65535) {
		return fmt.Errorf("%s: %s.http.port must be 1 to 65535, not %d", name, key, s.HTTP.Port)
	}
	if s.Context != "" && !filepath.IsAbs(s.Context) {
		s.Context = filepath.Join(filepath.Dir(name), s.Context)
	}
	return nil
}

func (v *Verify) check(name string) error {
	if err := v.VerifySettings.check(name, "verify"); err != nil {
		return err
	}
	for glob, s := range v.Files {
		if _, err := path.Match(glob, ""); err != nil {
			return fmt.Errorf("%s: bad verify.files pattern %q: %v", name, glob, err)
		}
		if err := s.check(name, "verify.files."+glob); err != nil {
			return err
		}
		v.Files[glob] = s
	}
	return nil
}

// VerifyFor returns the verify settings of file (a path to a Dockerfile):
// the folder-wide ones, overridden field by field by the first entry of
// verify.files (in sorted order of the patterns) that matches the file's
// path relative to the configuration's folder.
func (c *Config) VerifyFor(file string) VerifySettings {
	out := c.Verify.VerifySettings
	if c.Path == "" || len(c.Verify.Files) == 0 {
		return out
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return out
	}
	dir, err := filepath.Abs(filepath.Dir(c.Path))
	if err != nil {
		return out
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return out
	}
	rel = filepath.ToSlash(rel)
	globs := make([]string, 0, len(c.Verify.Files))
	for g := range c.Verify.Files {
		globs = append(globs, g)
	}
	sort.Strings(globs)
	for _, g := range globs {
		if ok, _ := path.Match(strings.TrimPrefix(g, "./"), rel); !ok {
			continue
		}
		s := c.Verify.Files[g]
		if s.Context != "" {
			out.Context = s.Context
		}
		if len(s.Run) > 0 {
			out.Run = s.Run
		}
		if s.HTTP != nil {
			out.HTTP = s.HTTP
		}
		break
	}
	return out
}
