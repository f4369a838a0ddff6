package nonroot

import (
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

// This file reads the accounts a Dockerfile makes: the users and groups
// its RUNs create (useradd, adduser, groupadd, addgroup and their options)
// and the USER instructions that switch to them.

// createdUser is a user (or, with IsGroup, a group) that a RUN creates.
type createdUser struct {
	Name    string // "" when the name uses an unknown variable
	UID     int    // -1 when not given or unknown
	Group   string // primary group name, when given by name
	GID     int    // -1 when not known
	IsGroup bool   // a group creation (groupadd, addgroup)
	In      *rewrite.Instruction
}

// userSet is a USER instruction and what it sets.
type userSet struct {
	In   *rewrite.Instruction
	Spec userspec.Spec
}

// Options that take a value, per command, for parseOpts.
var (
	useraddArgs = setOf("b", "c", "d", "e", "f", "g", "G", "k", "K", "p", "R", "P", "s", "u", "Z",
		"base-dir", "comment", "home-dir", "home", "expiredate", "inactive", "gid", "groups", "skel", "key",
		"password", "root", "prefix", "shell", "uid", "selinux-user")
	groupaddArgs     = setOf("g", "K", "p", "R", "P", "U", "gid", "key", "password", "root", "prefix", "users")
	debianAdduserArg = setOf("home", "shell", "gecos", "comment", "ingroup", "gid", "uid", "firstuid",
		"lastuid", "firstgid", "lastgid", "conf", "extrausers", "add-extra-groups-list")
	busyboxAdduserArg = setOf("h", "g", "s", "G", "u", "k")
	busyboxAddgroup   = setOf("g")
)

// scanCreations records the users and groups a RUN creates.
func (a *stageAnalysis) scanCreations(d *rewrite.Document, in *rewrite.Instruction, run *instructions.RunCommand, vars rewrite.Vars) {
	for _, script := range runScripts(run) {
		for _, cmd := range shellCommands(script) {
			u, ok := parseCreation(cmd)
			if !ok {
				continue
			}
			u.In = in
			if !cmd.Sudo() {
				a.rootShown = true // creating users takes root
			}
			name, nameOK := expandWord(d, u.Name, vars)
			if !nameOK || name == "" {
				a.UnknownCreation = true
				continue
			}
			u.Name = name
			u.UID = numberOpt(d, u.uidText, vars, &a.UnknownCreation)
			u.GID = numberOpt(d, u.gidText, vars, &a.UnknownCreation)
			if u.groupText != "" {
				if g, ok := expandWord(d, u.groupText, vars); ok {
					if n, err := strconv.Atoi(g); err == nil {
						u.GID = n
					} else {
						u.Group = g
					}
				}
			}
			a.Created = append(a.Created, u.createdUser)
		}
	}
}

func numberOpt(d *rewrite.Document, text string, vars rewrite.Vars, unknown *bool) int {
	if text == "" {
		return -1
	}
	v, ok := expandWord(d, text, vars)
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 0 {
		*unknown = true
		return -1
	}
	return n
}

type parsedCreation struct {
	createdUser
	uidText, gidText, groupText string
}

// parseCreation reads a useradd, adduser, groupadd or addgroup command.
// Adding an existing user to a group (`adduser USER GROUP` in Debian's
// form, `addgroup USER GROUP`) is not a creation.
func parseCreation(cmd rewrite.ShellCommand) (parsedCreation, bool) {
	var p parsedCreation
	p.UID, p.GID = -1, -1
	name := cmd.Program()
	if name != "useradd" && name != "groupadd" && name != "adduser" && name != "addgroup" {
		return p, false
	}
	args := argsOf(cmd)
	switch name {
	case "useradd":
		opts, pos := parseOpts(args, useraddArgs)
		if len(pos) != 1 {
			return p, false
		}
		p.Name = pos[0]
		p.uidText, _ = optOf(opts, "u", "uid")
		p.groupText, _ = optOf(opts, "g", "gid")
	case "groupadd":
		opts, pos := parseOpts(args, groupaddArgs)
		if len(pos) != 1 {
			return p, false
		}
		p.Name, p.IsGroup = pos[0], true
		p.gidText, _ = optOf(opts, "g", "gid")
	case "adduser":
		if debianStyle(args) {
			opts, pos := parseOpts(args, debianAdduserArg)
			_, group := opts["group"]
			if len(pos) != 1 {
				return p, false
			}
			p.Name = pos[0]
			p.uidText, _ = optOf(opts, "uid")
			if g, ok := optOf(opts, "ingroup"); ok {
				p.groupText = g
			} else if g, ok := optOf(opts, "gid"); ok {
				p.groupText = g
			} else if group {
				p.Group = pos[0]
			}
		} else {
			// `adduser USER GROUP` adds an existing user to a group.
			opts, pos := parseOpts(args, busyboxAdduserArg)
			if len(pos) != 1 {
				return p, false
			}
			p.Name = pos[0]
			p.uidText, _ = optOf(opts, "u")
			p.groupText, _ = optOf(opts, "G")
		}
	case "addgroup":
		if debianStyle(args) {
			opts, pos := parseOpts(args, debianAdduserArg)
			if len(pos) != 1 {
				return p, false
			}
			p.Name, p.IsGroup = pos[0], true
			p.gidText, _ = optOf(opts, "gid")
		} else {
			opts, pos := parseOpts(args, busyboxAddgroup)
			if len(pos) != 1 {
				return p, false
			}
			p.Name, p.IsGroup = pos[0], true
			p.gidText, _ = optOf(opts, "g")
		}
	default:
		return p, false
	}
	return p, true
}

// debianStyle tells Debian's adduser/addgroup (long options) from
// BusyBox's (short options).
func debianStyle(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			return true
		}
	}
	return false
}

// users returns the created users (not groups), last created first.
func (a *stageAnalysis) users() []createdUser {
	var out []createdUser
	for i := len(a.Created) - 1; i >= 0; i-- {
		if !a.Created[i].IsGroup {
			out = append(out, a.Created[i])
		}
	}
	return out
}

// gidOf returns the gid of a group created by name, or -1.
func (a *stageAnalysis) gidOf(group string) int {
	for i := len(a.Created) - 1; i >= 0; i-- {
		c := a.Created[i]
		if c.IsGroup && c.Name == group {
			return c.GID
		}
	}
	return -1
}
