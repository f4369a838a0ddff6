package registry

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Lifecycle lists the releases of one repository that reached end of life
// or were never published. Its rows live in their own catalog section
// (end-of-life), keyed like images, so a rebase can refuse to land on them.
type Lifecycle struct {
	Name string `yaml:"-"`
	// Source is the public support policy or tag list the releases come
	// from; a release may name its own.
	Source   string    `yaml:"source"`
	Releases []Release `yaml:"releases"`
}

// Release is a set of tags (the regular expression Match) that are end of
// life since Date, or that the repository never published (Date "never").
// Instead is the tag of the nearest supported release to suggest, which may
// use the groups of Match (${1}); empty when there is no single one.
type Release struct {
	Match   string `yaml:"match"`
	Date    string `yaml:"date"`
	Source  string `yaml:"source,omitempty"`
	Instead string `yaml:"instead,omitempty"`
	re      *regexp.Regexp
}

// Unsupported says whether the tag of ref is end of life (as of the
// catalog's date) or was never published, and what to use instead.
type Unsupported struct {
	// Never is true when the repository never published the tag.
	Never bool
	// Date is when the release reached end of life.
	Date   string
	Source string
	// Instead is the nearest supported reference, or "".
	Instead string
}

// EndOfLife reports whether ref names a release the catalog knows to be end
// of life on or before the catalog's date, or never published.
func (c *Catalog) EndOfLife(ref string) (Unsupported, bool) {
	name, tag, err := splitRef(ref)
	if err != nil {
		return Unsupported{}, false
	}
	lc, ok := c.EndOfLifeRows[name]
	if !ok {
		return Unsupported{}, false
	}
	if tag == "" {
		tag = "latest"
	}
	for _, r := range lc.Releases {
		re := r.re
		if re == nil {
			if re, err = regexp.Compile(r.Match); err != nil {
				continue
			}
		}
		m := re.FindStringSubmatchIndex(tag)
		if m == nil {
			continue
		}
		if r.Date != "never" && (c.Date == "" || r.Date > c.Date) {
			continue
		}
		u := Unsupported{Never: r.Date == "never", Date: r.Date, Source: lc.Source}
		if r.Source != "" {
			u.Source = r.Source
		}
		if r.Instead != "" {
			repo := ref
			if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
				repo = ref[:i]
			}
			u.Instead = repo + ":" + string(re.ExpandString(nil, r.Instead, tag, m))
		}
		return u, true
	}
	return Unsupported{}, false
}

func (c *Catalog) compileLifecycles() error {
	for _, lc := range c.EndOfLifeRows {
		for i := range lc.Releases {
			re, err := regexp.Compile(lc.Releases[i].Match)
			if err != nil {
				return fmt.Errorf("end-of-life: %s: %q: %w", lc.Name, lc.Releases[i].Match, err)
			}
			lc.Releases[i].re = re
		}
	}
	return nil
}

// validateLifecycles checks every end-of-life row: an https source, a date
// that is "never" or YYYY-MM-DD, and a repository that is a catalog image.
func (c *Catalog) validateLifecycles() []error {
	var errs []error
	for _, name := range sortedKeys(c.EndOfLifeRows) {
		lc := c.EndOfLifeRows[name]
		where := "end-of-life: " + lc.Name
		if _, ok := c.Images[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: not a catalog image", where))
		}
		if !strings.HasPrefix(lc.Source, "https://") {
			errs = append(errs, fmt.Errorf("%s: source must be an https URL", where))
		}
		if len(lc.Releases) == 0 {
			errs = append(errs, fmt.Errorf("%s: no releases", where))
		}
		for _, r := range lc.Releases {
			if _, err := time.Parse("2006-01-02", r.Date); err != nil && r.Date != "never" {
				errs = append(errs, fmt.Errorf("%s: %q: date must be YYYY-MM-DD or never, not %q", where, r.Match, r.Date))
			}
			if r.Source != "" && !strings.HasPrefix(r.Source, "https://") {
				errs = append(errs, fmt.Errorf("%s: %q: source must be an https URL", where, r.Match))
			}
			if r.Instead != "" {
				if _, _, err := splitRef(lc.Name + ":" + placeholderExpand(r.Instead)); err != nil {
					errs = append(errs, fmt.Errorf("%s: %q: instead %q is not a tag: %v", where, r.Match, r.Instead, err))
				}
			}
		}
	}
	return errs
}
