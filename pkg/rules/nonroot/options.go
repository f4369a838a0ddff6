package nonroot

import (
	"fmt"
	"strconv"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// The options of the non-root rule, in the order explain lists them.
var (
	uidOption = &rewrite.Option{
		Name:    "uid",
		Type:    rewrite.IntOption,
		Default: strconv.Itoa(DefaultUID),
		Doc: "The numeric user and group the final stage runs as, and the rule creates when the\n" +
			"image has no such user.",
		Flag:  true,
		Usage: "numeric user and group the non-root rule runs the final stage as",
		Check: func(v any) error {
			if n, _ := v.(int); n < 0 {
				return fmt.Errorf("must be positive, not %d", n)
			}
			return nil
		},
	}
	userNameOption = &rewrite.Option{
		Name:    "user-name",
		Type:    rewrite.StringOption,
		Default: DefaultUserName,
		Doc:     "The name of the user the rule creates.",
		Flag:    true,
		Usage:   "name of the user the non-root rule creates",
	}
	targetOption = &rewrite.Option{
		Name:  "target",
		Type:  rewrite.StringOption,
		Doc:   "The stage treated as final, like docker build --target; empty means the last one.",
		Flag:  true,
		Usage: "the stage the non-root rule treats as final (like docker build --target; default: the last)",
	}
	roleOption = &rewrite.Option{
		Name: "role",
		Type: rewrite.StringOption,
		Doc: "\"base\" for a folder whose Dockerfiles build images for others to extend: the rule\n" +
			"then adds no USER (put a .hardenfix.yaml with role: base in that folder).",
	}
	options = []*rewrite.Option{uidOption, userNameOption, targetOption, roleOption}
)
