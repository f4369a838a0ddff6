package main

// completionScripts hook urfave/cli's built-in completion
// (--generate-bash-completion) into bash and zsh. Install with
//
//	source <(hardenfix completion bash)
var completionScripts = map[string]string{
	"bash": `_hardenfix_complete() {
  local cur opts
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -- "$cur"))
}
complete -o filenames -F _hardenfix_complete hardenfix
`,
	"zsh": `#compdef hardenfix
_hardenfix() {
  local -a opts
  opts=("${(@f)$(${words[1]} ${words[@]:1:$CURRENT-2} --generate-bash-completion 2>/dev/null)}")
  _describe 'hardenfix' opts
  _files
}
compdef _hardenfix hardenfix
`,
}
