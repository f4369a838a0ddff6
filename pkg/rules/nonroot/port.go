package nonroot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// portMove is a web server moved from port 80 to an unprivileged port
// (nginx onto nginx-unprivileged, Apache onto Listen 8080): EXPOSE and a
// HEALTHCHECK that probe port 80 follow it.
type portMove struct {
	p      *nonRootPlan
	port   int
	uid    int
	server string // "nginx", "Apache"
	where  string // "in nginxinc/nginx-unprivileged", "now"
}

// exposeFixes moves EXPOSE 80 to the unprivileged port.
func (m *portMove) exposeFixes() []rewrite.Fix {
	p := m.p
	var fixes []rewrite.Fix
	for _, in := range p.instrs[1:] {
		if in.Keyword != "EXPOSE" {
			continue
		}
		var edits []rewrite.Edit
		for _, w := range p.d.Words(in.ArgsSpan) {
			num, proto, _ := strings.Cut(w.Raw, "/")
			switch {
			case w.Raw != w.Value || strings.Contains(w.Raw, "$"):
				if v, ok := expandWord(p.d, w.Value, p.d.VarsAt(in)); ok && (v == "80" || v == "80/tcp") {
					p.note(in.Line, "EXPOSE %s is port 80, where %s no longer listens: set it to %d", w.Raw, m.server, m.port)
				}
			case num == "80" && (proto == "" || strings.EqualFold(proto, "tcp")):
				edits = append(edits, rewrite.Replace(rewrite.Span{Start: w.Span.Start, End: w.Span.Start + len(num)}, strconv.Itoa(m.port)))
			default:
				if n, err := strconv.Atoi(num); err == nil && n < 1024 {
					p.note(in.Line, "EXPOSE %s: %s, now uid %d, cannot listen below 1024; its configuration listens only on %d", w.Raw, m.server, m.uid, m.port)
				}
			}
		}
		if len(edits) > 0 {
			fixes = append(fixes, rewrite.Fix{Line: in.Line, Risk: rewrite.Review, Edits: edits,
				Message: fmt.Sprintf("%s listens on %d %s: expose that port", m.server, m.port, m.where)})
		}
	}
	return fixes
}

// healthHost finds the loopback addresses a health check probes, with an
// optional scheme and port.
var healthHost = regexp.MustCompile(`(?i)(https?://)?(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:([0-9]+))?([^A-Za-z0-9.\-]|$)`)

// healthPort80 finds a port 80 the rewrite did not account for (nc
// localhost 80).
var healthPort80 = regexp.MustCompile(`(^|[^0-9A-Za-z.:])80([^0-9]|$)`)

// healthcheck moves a HEALTHCHECK that probes port 80 (explicitly, or as
// HTTP's default) to the unprivileged port; a problem when it probes it in
// a way the rule cannot rewrite.
func (m *portMove) healthcheck() (*rewrite.Fix, int, string) {
	p := m.p
	var hc *rewrite.Instruction
	for _, in := range p.instrs[1:] {
		if in.Keyword == "HEALTHCHECK" {
			hc = in
		}
	}
	if hc == nil {
		return nil, 0, ""
	}
	c, ok := hc.Command.(*instructions.HealthCheckCommand)
	if !ok || c.Health == nil || len(c.Health.Test) == 0 || c.Health.Test[0] == "NONE" {
		return nil, 0, ""
	}
	text := hc.ArgsSpan.Text(p.d.Src)
	port := strconv.Itoa(m.port)
	var edits []rewrite.Edit
	var after strings.Builder
	last := 0
	probe := regexp.MustCompile(`\b(curl|wget)\b`).MatchString(text)
	for _, loc := range healthHost.FindAllStringSubmatchIndex(text, -1) {
		scheme := ""
		if loc[2] >= 0 {
			scheme = strings.ToLower(text[loc[2]:loc[3]])
		}
		hostEnd := loc[5]
		switch {
		case loc[8] >= 0 && text[loc[8]:loc[9]] == "80":
			edits = append(edits, rewrite.Replace(rewrite.Span{Start: hc.ArgsSpan.Start + loc[8], End: hc.ArgsSpan.Start + loc[9]}, port))
			after.WriteString(text[last:loc[8]] + port)
			last = loc[9]
		case loc[8] >= 0:
			// another port: left alone
		case scheme == "https://":
			return nil, hc.Line, "the HEALTHCHECK probes https on port 443, where " + m.server + " as uid " + strconv.Itoa(m.uid) + " cannot listen"
		case scheme == "http://" || probe:
			edits = append(edits, rewrite.Insert(hc.ArgsSpan.Start+hostEnd, ":"+port))
			after.WriteString(text[last:hostEnd] + ":" + port)
			last = hostEnd
		}
	}
	after.WriteString(text[last:])
	if healthPort80.MatchString(after.String()) {
		return nil, hc.Line, "the HEALTHCHECK probes port 80 in a way hardenfix cannot rewrite"
	}
	if len(edits) == 0 {
		return nil, 0, ""
	}
	return &rewrite.Fix{Line: hc.Line, Risk: rewrite.Review, Edits: edits,
		Message: fmt.Sprintf("%s listens on %s %s: probe that port", m.server, port, m.where)}, 0, ""
}
