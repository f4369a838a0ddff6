package rewrite

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// StageChain returns stage i and the stages it is built FROM, root first, and
// the external image at the root (expanded with the global ARGs).
func (d *Document) StageChain(i int) (chain []int, image string, known bool) {
	seen := map[int]bool{}
	for i >= 0 && !seen[i] {
		seen[i] = true
		chain = append([]int{i}, chain...)
		base, unset, err := d.Expand(d.Stages[i].BaseName, d.GlobalArgs)
		if err != nil {
			return chain, d.Stages[i].BaseName, false
		}
		parent := d.stageNamed(base, i)
		if parent < 0 {
			if len(unset) > 0 && d.MaybeStage(d.Stages[i].BaseName, i) {
				// FROM names one of several stages through variables
				// only known at build time: the chain cannot be told.
				return chain, d.Stages[i].BaseName, false
			}
			return chain, base, len(unset) == 0
		}
		i = parent
	}
	return chain, "", false
}

// stageNamed returns the index of the stage before `before` named name
// (case-insensitive, as BuildKit compares), or -1.
func (d *Document) stageNamed(name string, before int) int {
	for j := before - 1; j >= 0; j-- {
		if d.Stages[j].Name != "" && strings.EqualFold(d.Stages[j].Name, name) {
			return j
		}
	}
	return -1
}

var varRef = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// MaybeStage reports whether a FROM name with variables could name a stage
// before `before`, the variables standing for anything
// ("buildkit-$TARGETOS" could be the stage buildkit-linux).
func (d *Document) MaybeStage(raw string, before int) bool {
	pattern := strings.ToLower(varRef.ReplaceAllString(raw, "*"))
	if strings.Trim(pattern, "*") == "" {
		return false // nothing but variables: an image as likely as a stage
	}
	for j := before - 1; j >= 0; j-- {
		if ok, _ := path.Match(pattern, strings.ToLower(d.Stages[j].Name)); ok && d.Stages[j].Name != "" {
			return true
		}
	}
	return false
}

// StageRef resolves a COPY --from value (a stage name or index) to a stage
// index before `before`, or -1 for an image.
func (d *Document) StageRef(ref string, before int) int {
	if n, err := strconv.Atoi(ref); err == nil {
		if n >= 0 && n < before {
			return n
		}
		return -1
	}
	return d.stageNamed(ref, before)
}

// From returns the FROM instruction of stage stage, or nil.
func (d *Document) From(stage int) *Instruction {
	for _, in := range d.Instructions {
		if in.Stage == stage && in.Keyword == "FROM" {
			return in
		}
	}
	return nil
}

// InstructionsByStage groups the instructions by stage, FROM first.
func (d *Document) InstructionsByStage() [][]*Instruction {
	out := make([][]*Instruction, len(d.Stages))
	for _, in := range d.Instructions {
		if in.Stage >= 0 && in.Stage < len(out) {
			out[in.Stage] = append(out[in.Stage], in)
		}
	}
	return out
}
