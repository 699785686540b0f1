package rules

import (
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 17 (adversarial review of the worktree adv3, at a9b9764):
// flow.go. Each line runs under real bash (round13RemovesVictim) and
// removes victim/ there; the rule declining rm must decline it
// (round14Decline). The payload is 'a[$' + '(rm -rf victim)]': no literal
// of the line holds "$(", so only flow.go can see it.

// TestRound17OutputOfBuiltText: a value a program prints is "the
// program's business" (readers count only when the line holds "$(" as
// text), but here the program prints text the line assembled: echo
// "$x$y" in $(…), a file, a process substitution or a pipe carries the
// built value to z, and $((z)) runs rm -rf victim.
func TestRound17OutputOfBuiltText(t *testing.T) {
	for _, line := range []string{
		`x='a[$'; y='(rm -rf victim)]'; z=$(echo "$x$y"); echo $((z))`,
		`x='a[$'; y='(rm -rf victim)]'; echo "$x$y" > f; z=$(<f); echo $((z))`,
		`x='a[$'; y='(rm -rf victim)]'; read z < <(printf %s "$x$y"); echo $((z))`,
		`x='a[$'; y='(rm -rf victim)]'; printf %s "$x$y" | { read z; echo $((z)); }`,
		`x='a[$'; y='(rm -rf victim)]'; shopt -s lastpipe; printf '%s\n' "$x$y" | read z; echo $((z))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound17BuiltTextAsArgument: a call's arguments are never recorded
// as built, so a function (or bash -c) evaluating $1 runs the text the
// caller assembled.
func TestRound17BuiltTextAsArgument(t *testing.T) {
	for _, line := range []string{
		`f() { echo $(($1)); }; x='a[$'; y='(rm -rf victim)]'; f "$x$y"`,
		`f() { (( $1 )); }; x='a[$'; y='(rm -rf victim)]'; f "$x$y"`,
		`x='a[$'; y='(rm -rf victim)]'; bash -c 'echo $(($1))' _ "$x$y"`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound17ConcatenationInArithmetic: no variable needs to hold the
// text: $(( $x$y )) expands to a[$(rm -rf victim)] and evaluates it.
// arithOf records x and y as evaluated, but neither is built; the join
// happens inside the arithmetic. Same with "${arr[*]}" joined by IFS=.
func TestRound17ConcatenationInArithmetic(t *testing.T) {
	for _, line := range []string{
		`x='a[$'; y='(rm -rf victim)]'; echo $(($x$y))`,
		`x='a[$'; y='(rm -rf victim)]'; echo $(("$x$y"))`,
		`x='a[$'; y='(rm -rf victim)]'; (( $x$y ))`,
		`x='a[$'; y='(rm -rf victim)]'; let "$x$y"`,
		`arr=('a[$' '(rm -rf victim)]'); IFS=; echo $(("${arr[*]}"))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound17JoinedByOneExpansion: dangerous() counts parts, so a single
// ParamExp that joins text is a plain copy: ${x/q/$y} (replacement),
// ${y/#/a[\$} (prefix), "$*" and "${arr[*]}" (IFS join) build
// a[$(rm -rf victim)] in one part.
func TestRound17JoinedByOneExpansion(t *testing.T) {
	for _, line := range []string{
		`x='a[$q'; y='(rm -rf victim)]'; z=${x/q/$y}; echo $((z))`,
		`y='(rm -rf victim)]'; z=${y/#/a[\$}; echo $((z))`,
		`set -- 'a[$' '(rm -rf victim)]'; IFS=; z="$*"; echo $((z))`,
		`arr=('a[$' '(rm -rf victim)]'); IFS=; z="${arr[*]}"; echo $((z))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound17CopyIntoArray: an array element copied from a built value
// (w=("$z"), declare -A m=([k]=$z)) is no copy for flow (only
// dangerous() is asked of elements), and $((w)) / $((m[k])) evaluate it.
func TestRound17CopyIntoArray(t *testing.T) {
	for _, line := range []string{
		`x='a[$'; y='(rm -rf victim)]'; z=$x$y; w=("$z"); echo $((w))`,
		`x='a[$'; y='(rm -rf victim)]'; z=$x$y; declare -A m=([k]=$z); echo $((m[k]))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound17PrintfAttachedV: call() looks for the word "-v" only; bash
// reads -vz as -v z.
func TestRound17PrintfAttachedV(t *testing.T) {
	line := `x='a[$'; y='(rm -rf victim)]'; printf -vz %s%s "$x" "$y"; echo $((z))`
	round14Decline(t, line, round13RemovesVictim(t, line))
}

// TestRound17EvalCopy: eval "w=\$z" copies a built value without an
// Assign flow sees (the eval script is not literal, so it is not read).
func TestRound17EvalCopy(t *testing.T) {
	line := `x='a[$'; y='(rm -rf victim)]'; z=$x$y; eval "w=\$z"; echo $((w))`
	round14Decline(t, line, round13RemovesVictim(t, line))
}

// round17Ordinary: everyday lines with variables and arithmetic. None runs
// rm; the rule declining rm must not decline them.
var round17Ordinary = []string{
	`i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i`,
	`count=0; for f in *.go; do count=$((count+1)); done; echo "$count files"`,
	`n=$(wc -l < main.go); echo $((n * 2))`,
	`lines=$(git ls-files | wc -l); echo "total: $lines"`,
	`start=$(date +%s); go test ./...; end=$(date +%s); echo "took $((end-start))s"`,
	`start=$SECONDS; make build; echo "elapsed $((SECONDS-start))s"`,
	`echo $((RANDOM % 100))`,
	`for i in $(seq 1 5); do echo "run $i"; done`,
	`for i in {1..3}; do go test -count=1 ./... && break; sleep $((i*2)); done`,
	`for ((i=0; i<3; i++)); do echo $i; done`,
	`attempt=1; until curl -fsS localhost:8080/health; do attempt=$((attempt+1)); [ $attempt -gt 10 ] && exit 1; sleep 1; done`,
	`retries=0; while ! go test ./...; do ((retries++)); [[ $retries -ge 3 ]] && break; done`,
	`v=$(cat VERSION); IFS=. read -r major minor patch <<< "$v"; echo "$major.$minor.$((patch+1))"`,
	`ver=$(git describe --tags --abbrev=0); IFS=. read -r ma mi pa <<< "${ver#v}"; echo "v$ma.$((mi+1)).0"`,
	`files=(*.go); echo "${#files[@]} files"`,
	`files=($(git diff --name-only)); echo "${#files[@]} changed"; for f in "${files[@]}"; do echo "$f"; done`,
	`mapfile -t files < <(git ls-files '*.go'); echo "${#files[@]}"`,
	`mapfile -t lines < go.mod; echo "${lines[0]}"`,
	`while read -r line; do echo "$line"; done < go.mod`,
	`n=0; while IFS= read -r line; do n=$((n+1)); done < main.go; echo $n`,
	`git ls-files | while read -r f; do wc -l "$f"; done | sort -n | tail -5`,
	`printf -v ts '%(%Y%m%d)T' -1; echo "$ts"`,
	`printf -v msg '%s: %d' "build" 3; echo "$msg"`,
	`a=foo; b=bar; msg="$a: $b"; echo "$msg"`,
	`name=app; out="bin/${name}-$(go env GOOS)"; go build -o "$out" ./cmd/$name`,
	`export PATH="$HOME/go/bin:$PATH"; which gopls`,
	`export PATH=$PATH:/usr/local/go/bin && go version`,
	`export GOPATH=$HOME/go; echo $GOPATH`,
	`dir="$(pwd)/build"; mkdir -p "$dir"; echo "$dir"`,
	`total=0; for f in *.go; do n=$(wc -l < "$f"); total=$((total+n)); done; echo $total`,
	`total=0; for f in *.go; do total=$((total + $(wc -l < "$f"))); done; echo $total`,
	`sum=0; while read -r n; do sum=$((sum+n)); done < nums.txt; echo $sum`,
	`size=$(stat -c %s bin/app); echo "$((size / 1024)) KiB"`,
	`cores=$(nproc); make -j$((cores+1))`,
	`make -j$(($(nproc)+1))`,
	`pct=$(( 100 * passed / total )); echo "$pct%"`,
	`passed=$(grep -c PASS out.txt); failed=$(grep -c FAIL out.txt); echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]`,
	`fails=$(go test ./... 2>&1 | grep -c '^--- FAIL'); if [ "$fails" -gt 0 ]; then echo "$fails failures"; fi`,
	`out=$(go test ./... 2>&1); status=$?; echo "$out" | tail -20; exit $status`,
	`go test ./...; rc=$?; if (( rc != 0 )); then echo failed; fi`,
	`let i=1+2; echo $i`,
	`declare -i n=5; n+=1; echo $n`,
	`local_var=1; typeset -i k=3; echo $((k*local_var))`,
	`x=5; y=7; echo $((x > y ? x : y))`,
	`x=$1; y=$2; echo $((x+y))`,
	`pad=$(printf '%03d' 7); echo "file-$pad.txt"`,
	`for i in $(seq -w 1 10); do touch "test_$i.txt"; done`,
	`i=0; for f in *.png; do mv "$f" "img_$i.png"; i=$((i+1)); done`,
	`base=${f%.*}; ext=${f##*.}; echo "$base.$ext"`,
	`for f in src/*.ts; do echo "${f%.ts}.js"; done`,
	`branch=$(git rev-parse --abbrev-ref HEAD); echo "on $branch"`,
	`branch=$(git branch --show-current); git push origin "$branch"`,
	`ahead=$(git rev-list --count origin/main..HEAD); echo "$ahead commits ahead"; (( ahead > 0 )) && git push`,
	`n=$(git log --oneline | wc -l); echo "$((n)) commits"`,
	`commits=$(git rev-list --count HEAD); echo "build.$((commits + 1))"`,
	`ts=$(date +%Y%m%d-%H%M%S); cp config.yaml "config.yaml.$ts.bak"`,
	`deadline=$(( $(date +%s) + 60 )); while [ "$(date +%s)" -lt $deadline ]; do curl -fs localhost:3000 && break; sleep 2; done`,
	`PORT=${PORT:-8080}; echo "listening on $PORT"`,
	`: "${GOFLAGS:=-mod=mod}"; go build ./...`,
	`tag="v$(cat VERSION)"; git tag "$tag" && git push origin "$tag"`,
	`major=1; minor=4; patch=2; echo "v$major.$minor.$((patch+1))"`,
	`IFS=, read -ra parts <<< "a,b,c"; echo "${#parts[@]}"`,
	`IFS=: read -ra dirs <<< "$PATH"; for d in "${dirs[@]}"; do ls "$d" | wc -l; done`,
	`arr=(one two three); echo "${arr[1]}"; echo "${arr[@]:1}"`,
	`arr=(a b c); for i in "${!arr[@]}"; do echo "$i: ${arr[$i]}"; done`,
	`arr=(a b c); last=${arr[${#arr[@]}-1]}; echo $last`,
	`declare -A m=([a]=1 [b]=2); for k in "${!m[@]}"; do echo "$k=${m[$k]}"; done`,
	`s="hello world"; echo "${s:0:5}" "${#s}"`,
	`s="$(git log -1 --format=%s)"; echo "${s:0:50}"`,
	`line=$(grep -n 'func main' main.go | cut -d: -f1); sed -n "$((line)),$((line+20))p" main.go`,
	`line=$(grep -n 'func main' main.go | cut -d: -f1); head -n $((line+10)) main.go | tail -n 11`,
	`n=$(grep -c TODO -r src); if [[ $n -gt 0 ]]; then echo "$n TODOs"; fi`,
	`count=$(find . -name '*.go' | wc -l); [[ $count -lt 1000 ]] && echo ok`,
	`len=$(jq length data.json); for ((i=0; i<len; i++)); do jq ".[$i].name" data.json; done`,
	`id=$(gh pr view --json number -q .number); echo "PR #$id"`,
	`run=$(gh run list --limit 1 --json databaseId -q '.[0].databaseId'); gh run view "$run" --log-failed`,
	`mem=$(free -m | awk '/Mem/{print $2}'); echo $((mem/1024))G`,
	`used=$(df --output=pcent / | tail -1 | tr -d ' %'); (( used > 90 )) && echo "disk full"`,
	`pid=$(pgrep -f server); [ -n "$pid" ] && kill "$pid"`,
	`for pkg in $(go list ./...); do go test -count=1 "$pkg" || echo "FAIL $pkg"; done`,
	`results=(); for p in $(go list ./...); do results+=("$p"); done; echo "${#results[@]}"`,
	`msg=""; for f in *.go; do msg+="$f "; done; echo "$msg"`,
	`out=""; out+="line1"; out+=$'\n'; out+="line2"; printf '%s\n' "$out"`,
	`args=(-v -race); args+=(-count=1); go test "${args[@]}" ./...`,
	`flags="-ldflags=-s"; go build $flags ./...`,
	`export VERSION=$(git describe --tags); make release`,
	`export CGO_ENABLED=0 GOOS=linux; go build ./...`,
	`set -- a b c; echo $#; shift; echo "$1"`,
	`set -e; n=$(ls | wc -l); echo $((n-1))`,
	`set -euo pipefail; count=0; for f in *.md; do ((count+=1)); done; echo $count`,
	`read -r -p "continue? " ans; [[ $ans == y ]] && echo yes`,
	`while IFS=: read -r user _ uid _; do (( uid >= 1000 )) && echo "$user"; done < /etc/passwd`,
	`cat sizes.txt | while read -r size name; do echo "$((size/1024))K $name"; done`,
	`awk '{s+=$1} END {print s}' nums.txt`,
	`x=$(( $(cat a.txt | wc -l) + $(cat b.txt | wc -l) )); echo $x`,
	`n=$(ls *.log 2>/dev/null | wc -l); echo "$n logs"`,
	`echo "$(( $(date +%s) - $(stat -c %Y go.sum) )) seconds since go.sum changed"`,
	`elapsed=$((SECONDS)); printf 'done in %dm%ds\n' $((elapsed/60)) $((elapsed%60))`,
	`h=$(printf '%x' 255); echo "$h"; echo $((16#ff))`,
	`i=0; for f in "$@"; do i=$((i+1)); echo "$i: $f"; done`,
	`name="${USER:-agent}"; greeting="Hello, $name!"; echo "$greeting"`,
	`key="$1"; val="$2"; echo "$key=$val" >> .env`,
	`prefix="build"; suffix="$(date +%F)"; dir="$prefix-$suffix"; mkdir -p "$dir"`,
	`f=report.txt; n=$(wc -l < "$f"); echo "$f has $n lines"; [ $n -gt 100 ] && head -100 "$f"`,
	`ver="1.2.3"; IFS=. read -r a b c <<< "$ver"; echo $((a*10000 + b*100 + c))`,
	`cur=$(cat build.txt); echo $((cur+1)) > build.txt`,
	`port=$((3000 + RANDOM % 1000)); echo "using $port"`,
	// Not here: timeout=$((5*60)); timeout $timeout go test ./... — an unquoted
	// $timeout may split into "5 rm -rf x": declining it is right.
	`sleep_s=1; for i in 1 2 3; do curl -fs localhost && break; sleep $sleep_s; sleep_s=$((sleep_s*2)); done`,
	`w=$(tput cols); printf '%*s\n' "$w" '' | tr ' ' -`,
	`d="$HOME/.cache/$(basename "$PWD")"; mkdir -p "$d"; echo "$d"`,
	`p="$x/$y"; n=${#p}; echo $((n))`,
	`msg="$a: $b"; len=${#msg}; echo $((len+2))`,
	`full="$dir/$file"; [[ -f $full ]] && wc -l "$full"`,
	`k=$a$b; echo $((k+1))`,
	`v="$major.$minor"; echo "$v"; echo $((major+1))`,
}

// TestRound17OrdinaryLinesNotDeclined: no line of round17Ordinary may be
// declined by the rule declining rm.
func TestRound17OrdinaryLinesNotDeclined(t *testing.T) {
	p := mustParse(t, round13Rules)
	declined := 0
	for _, line := range round17Ordinary {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Decline || v.Decision == abi.Cancel {
			declined++
			t.Errorf("%q: %s (rule %q, unread %q; %s): it runs no rm", line, v.Decision, v.Rule, v.Unread, reasonOf(v))
		}
	}
	t.Logf("%d ordinary lines, %d declined", len(round17Ordinary), declined)
}
