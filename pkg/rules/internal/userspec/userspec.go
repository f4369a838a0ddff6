package userspec

import (
	"regexp"
	"strconv"
	"strings"
)

// Spec is the argument of a USER instruction after variable expansion.
type Spec struct {
	Text        string // "app", "1000:1000"
	User, Group string
	// Known is false when the text uses variables without a known value.
	Known bool
}

// Parse reads a USER value; known is false when it holds variables
// whose values are not known.
func Parse(text string, known bool) Spec {
	u, g, _ := strings.Cut(text, ":")
	valid := validAccount.MatchString(u) && (g == "" || validAccount.MatchString(g))
	return Spec{Text: text, User: u, Group: g, Known: known && valid}
}

// validAccount is what a user or group can be named (or numbered); text
// such as "--" from a malformed --chown is not a user the rule can write.
var validAccount = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// Root reports whether the spec names uid 0 (or Windows' administrator).
// Only the user part counts:
// "1000:0" runs as a non-root user in the root group, which is fine.
func (u Spec) Root() bool {
	// ContainerAdministrator is the administrator of Windows images.
	if u.User == "root" || strings.EqualFold(u.User, "ContainerAdministrator") {
		return true
	}
	n, err := strconv.Atoi(u.User)
	return err == nil && n == 0
}

// Numeric reports whether the user part is a number.
func (u Spec) Numeric() bool {
	_, err := strconv.Atoi(u.User)
	return err == nil
}
