package rules

import (
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 16 (adversarial review of the worktree adv3, at 6fe9227).
// The rules are round13Rules (rm declined, the usual read-only tools, make
// and go test accepted).

// round16Ordinary are everyday lines a coding agent runs. None runs rm;
// the rule declining rm must not decline any of them (abstain or accept
// is fine).
var round16Ordinary = []string{
	// git
	`git status`,
	`git status --porcelain`,
	`git diff --stat HEAD~1`,
	`git log --oneline -20`,
	`git log --format='%h %an %s' -n 5`,
	`git add -A && git commit -m "fix: handle empty input"`,
	`git commit -am 'wip'`,
	"git commit -m \"$(cat <<'EOF'\nfix(parser): accept empty input\n\nPreviously `Parse(\"\")` panicked.\n\nCloses #42\nEOF\n)\"",
	"git commit -F - <<'EOF'\nrefactor: split loader\n\n- move `load()` to loader.go\n- add tests\nEOF",
	`git checkout -b feature/x`,
	`git switch -c fix/y origin/main`,
	`git fetch origin && git rebase origin/main`,
	`git stash && git pull --rebase && git stash pop`,
	`git push -u origin HEAD`,
	`git rev-parse --abbrev-ref HEAD`,
	`git branch --show-current`,
	`git diff --name-only origin/main...HEAD | grep '\.go$'`,
	`git show HEAD:go.mod | head -5`,
	`git blame -L 10,20 main.go`,
	`git log -p -S'func Parse' -- '*.go'`,
	`git ls-files '*.go' | wc -l`,
	`git grep -n "TODO" -- ':!vendor'`,
	`git worktree list`,
	`git tag -l 'v*' | sort -V | tail -1`,
	`git cherry-pick abc123`,
	`git reset --soft HEAD~1`,
	`git config user.email`,
	`base=$(git merge-base HEAD origin/main); git diff "$base" --stat`,
	`for f in $(git diff --name-only); do echo "$f"; done`,
	`git diff --cached --quiet || git commit -m "chore: update"`,
	// gh
	`gh pr list --state open`,
	`gh pr view 12 --json title,body`,
	`gh pr checks`,
	"gh pr create --title \"feat: add X\" --body \"$(cat <<'EOF'\n## Summary\n- adds `X`\n- fixes #12\n\n## Test plan\n- [x] `go test ./...`\nEOF\n)\"",
	"gh pr create --fill --body-file - <<'EOF'\n## Summary\nAdds `--json` output.\nEOF",
	`gh issue list --label bug --limit 10`,
	`gh run list --limit 5`,
	`gh run view --log-failed`,
	`gh api repos/{owner}/{repo}/pulls/12/comments --jq '.[].body'`,
	`gh pr view --json number -q .number`,
	// go
	`go build ./...`,
	`go test ./...`,
	`go test -race -count=1 ./pkg/...`,
	`go test -run 'TestParse$' -v ./parser`,
	`go vet ./...`,
	`go mod tidy`,
	`go get github.com/stretchr/testify@latest`,
	`gofmt -l . | grep -v vendor`,
	`go test ./... 2>&1 | tail -30`,
	`go test -coverprofile=cover.out ./... && go tool cover -func=cover.out | tail -1`,
	`go env GOPATH`,
	`go list -m all | grep x/net`,
	`CGO_ENABLED=0 go build -o bin/app ./cmd/app`,
	`GOOS=linux GOARCH=arm64 go build ./...`,
	// node
	`npm install`,
	`npm ci`,
	`npm run build`,
	`npm test -- --watch=false`,
	`npm run lint -- --fix`,
	`npx tsc --noEmit`,
	`npx prettier --write "src/**/*.ts"`,
	`pnpm install --frozen-lockfile`,
	`pnpm -r build`,
	`pnpm test --filter web`,
	`yarn install && yarn build`,
	`yarn jest src/foo.test.ts`,
	`node -e 'console.log(process.version)'`,
	`node scripts/gen.js > out.json`,
	`NODE_ENV=production npm run build`,
	// rust
	`cargo build --release`,
	`cargo test -- --nocapture`,
	`cargo clippy --all-targets -- -D warnings`,
	`cargo fmt --check`,
	`cargo run --bin tool -- --help`,
	`RUST_BACKTRACE=1 cargo test parser::tests`,
	// make
	`make`,
	`make test`,
	`make -j"$(nproc)"`,
	`make -C build install DESTDIR=/tmp/stage`,
	`make lint 2>&1 | head -50`,
	// python
	`python3 -m pytest -q`,
	`pytest -x -k "not slow" tests/`,
	`source .venv/bin/activate && pytest`,
	`. .venv/bin/activate; python -m pip install -r requirements.txt`,
	`python -m venv .venv && . .venv/bin/activate && pip install -e .`,
	`python3 -c 'import sys; print(sys.version)'`,
	"python3 - <<'EOF'\nimport json\nwith open('a.json') as f:\n    print(json.load(f)['version'])\nEOF",
	`python3 -m json.tool package.json | head`,
	`ruff check . && mypy src`,
	`uv run pytest -q`,
	// docker / kubectl
	`docker build -t app:dev .`,
	`docker run --rm -it -v "$PWD":/src -w /src golang:1.22 go test ./...`,
	`docker compose up -d db`,
	`docker ps --format '{{.Names}}\t{{.Status}}'`,
	`docker logs --tail 100 app`,
	`kubectl get pods -n dev -o wide`,
	`kubectl logs deploy/api -n dev --tail=50`,
	`kubectl get pods -o jsonpath='{.items[*].metadata.name}'`,
	`kubectl describe pod "$(kubectl get pods -l app=api -o name | head -1)"`,
	// jq / awk / sed / grep / rg / find / xargs
	`jq -r '.dependencies | keys[]' package.json`,
	`jq '.version = "1.2.3"' package.json > tmp.json && mv tmp.json package.json`,
	`curl -s https://api.github.com/repos/o/r | jq -r .stargazers_count`,
	`awk -F: '{print $1}' /etc/passwd | sort | uniq -c`,
	`awk 'NR==1, NR==10' main.go`,
	`awk '/func /{n++} END{print n}' *.go`,
	`sed -n '10,20p' main.go`,
	`sed -i 's/oldName/newName/g' $(grep -rl oldName src)`,
	`sed -i.bak -e 's|http://|https://|g' config.yaml`,
	`grep -rn "func main" --include='*.go' .`,
	`grep -c '^import' *.py`,
	`rg -n 'TODO|FIXME' src`,
	`rg --files | rg '\.tsx?$' | head`,
	`rg -l 'oldApi\(' | xargs sed -i 's/oldApi(/newApi(/g'`,
	`find . -name '*.go' -newer go.mod | head`,
	`find . -type f -name '*.log' -mtime +7 -print`,
	`find src -name '*.ts' | xargs wc -l | sort -n | tail`,
	`find . -name '*.py' -print0 | xargs -0 grep -l 'import os'`,
	`find . -maxdepth 2 -type d -name node_modules -prune -o -name '*.json' -print`,
	`ls -la | grep -v '^d'`,
	`wc -l $(git ls-files '*.go') | tail -1`,
	`cat go.mod | grep -E '^(module|go) '`,
	`head -n 50 README.md`,
	`tail -f /dev/null & sleep 1; kill $!`,
	`diff <(sort a.txt) <(sort b.txt)`,
	// shell structure
	`set -euo pipefail; go build ./... && go test ./...`,
	`set -e; cd backend && npm ci && npm test`,
	`cd web && npm run build`,
	`cd "$(git rev-parse --show-toplevel)" && make test`,
	`export GOFLAGS=-mod=mod; go build ./...`,
	`export PATH="$HOME/.local/bin:$PATH"; which tool`,
	`export NODE_OPTIONS=--max-old-space-size=4096 && npm run build`,
	`. ./env.sh && make`,
	`source ./scripts/env.sh; echo "$APP_ENV"`,
	`if [ -f package.json ]; then npm test; else echo none; fi`,
	`if [[ -d .git ]]; then git status; fi`,
	`[[ -z "$(git status --porcelain)" ]] && echo clean || echo dirty`,
	`[ -d node_modules ] || npm install`,
	`test -f go.sum && go mod verify`,
	`if ! command -v jq >/dev/null; then echo "no jq"; fi`,
	`if [ "$(uname)" = Darwin ]; then echo mac; fi`,
	`[ $# -eq 0 ] && echo none`,
	`[ "$count" -gt 0 ] && echo "$count"`,
	`count=0; for f in *.go; do count=$((count+1)); done; echo "$count"`,
	`n=0; while read -r line; do n=$((n+1)); done < go.mod; echo $n`,
	`i=0; until [ $i -ge 3 ]; do echo $i; i=$((i+1)); done`,
	`for ((i=0; i<3; i++)); do echo "run $i"; go test ./... || break; done`,
	`for i in 1 2 3; do go test -count=1 ./... || exit 1; done`,
	`for d in */; do (cd "$d" && git pull); done`,
	`for f in src/*.ts; do echo "== $f"; head -3 "$f"; done`,
	`while IFS= read -r f; do echo "$f"; done < <(find . -name '*.go')`,
	`while IFS= read -r f; do gofmt -l "$f"; done < <(git ls-files '*.go')`,
	`git ls-files | while read -r f; do wc -l "$f"; done | sort -n | tail`,
	`mapfile -t files < <(git ls-files '*.go'); echo "${#files[@]}"`,
	`mapfile -t arr < <(git ls-files); for f in "${arr[@]}"; do echo "$f"; done`,
	`readarray -t lines < go.mod; echo "${lines[0]}"`,
	`read -r version < VERSION; echo "v$version"`,
	`IFS=, read -r a b <<< "x,y"; echo "$a $b"`,
	`printf -v now '%(%s)T' -1; echo "$now"`,
	`printf '%s\n' "${arr[@]}"`,
	`printf -v pad '%-10s' x; echo "[$pad]"`,
	`declare -A m; m[a]=1; m[b]=2; for k in "${!m[@]}"; do echo "$k=${m[$k]}"; done`,
	`declare -a list=(a b c); echo "${list[1]}"`,
	`declare -i n=5; n+=1; echo $n`,
	`f() { local x=$1; echo "$x"; }; f hello`,
	`build() { local dir=$1; (cd "$dir" && make); }; build sub`,
	// Not here: retry() { …; until "$@"; do …; done; }; retry go test ./...
	// runs its arguments as a command ("$@" may be rm): declining it is
	// the fail-closed reading of a wrapper the engine does not follow.
	`total=$(git ls-files | wc -l); echo "files: $total"`,
	`ver=$(jq -r .version package.json); echo "v${ver}"`,
	`start=$SECONDS; go test ./...; echo "took $((SECONDS-start))s"`,
	`x=${VAR:-default}; echo "${x%/}"`,
	`name=${f##*/}; echo "${name%.go}"`,
	`echo "${PATH//:/$'\n'}" | head`,
	`echo "${arr[@]:1:2}"`,
	`s="hello"; echo "${s:0:3}"`,
	`len=${#s}; echo $((len * 2))`,
	`(( count > 5 )) && echo many`,
	`let i++; echo $i`,
	`case "$OSTYPE" in darwin*) echo mac;; linux*) echo linux;; esac`,
	`trap 'echo done' EXIT; go test ./...`,
	`tmp=$(mktemp -d); cp go.mod "$tmp"/; ls "$tmp"`,
	`time go test ./...`,
	`nohup ./server > server.log 2>&1 &`,
	`timeout 30 npm test || echo "timed out"`,
	`env | grep ^GO`,
	`echo $((16#ff))`,
	`go test ./... | tee test.log | grep -E '^(FAIL|ok)'`,
	// values built from text, then arithmetic or subscripts
	"export PATH=\"$HOME/go/bin:$PATH\"; for ((i=1; i<=3; i++)); do go test ./... && break; done",
	`export PATH=$PATH:/usr/local/go/bin; echo "${files[0]}"`,
	`out="$PWD/dist"; mkdir -p "$out"; echo "${PWD:0:20}"`,
	`IFS=. read -r major minor patch < VERSION; tag="v$major.$minor"; echo "$tag.$((patch+1))"`,
	`for i in "${!files[@]}"; do echo "$i: ${files[$i]}"; done`,
	`files=(); for f in *.go; do files+=("$f"); done; echo "${#files[@]}"`,
	`IFS=: read -ra parts <<< "$PATH"; echo "${parts[0]}"`,
	`n=$(git rev-list --count HEAD); [[ $n -gt 100 ]] && echo big`,
	`arr=(one two three); echo "${arr[-1]}"`,
	`dir=$(pwd); name=${dir##*/}; echo "$name"; echo $((RANDOM % 10))`,
	`for v in ${!GO*}; do echo "$v"; done`,
	// builtins and shell options
	`shopt -s globstar nullglob; ls **/*.go`,
	`set -x; go build ./...; set +x`,
	`command -v go && go version`,
	`type -p node || echo "no node"`,
	`hash -r; which go`,
	`ulimit -n 4096; npm test`,
	`pushd sub >/dev/null && make && popd >/dev/null`,
	`cd - >/dev/null`,
	`unset GOFLAGS; go env GOFLAGS`,
	`./server & pid=$!; sleep 2; curl -s localhost:8080/health; kill "$pid"; wait "$pid"`,
	`trap 'kill $pid 2>/dev/null' EXIT; ./server & pid=$!; sleep 1; go test ./e2e`,
	`[[ $f == *.go ]] && echo go`,
	`[[ "$(go version)" =~ go1\.2[0-9] ]] && echo recent`,
	`mapfile -t < go.mod; echo "${MAPFILE[0]}"`,
	`while getopts "v" opt; do echo "$opt"; done`,
	`find . -name '*.sh' -exec sh -c 'shellcheck "$1"' _ {} \;`,
	`git ls-files '*.md' | xargs -I{} sh -c 'echo "== {}"; head -1 "{}"'`,
	`exec > >(tee build.log) 2>&1; make`,
	`echo $?`,
	`go test ./a & go test ./b & wait $!`,
	`go test ./... ; echo "exit=$?"`,
	`printf '%s\n' "$@"`,
	// here-documents to files
	"cat > config.yaml <<'EOF'\nport: 8080\nhost: localhost\nEOF",
	"cat > .env <<EOF\nAPP_ENV=dev\nHOME_DIR=$HOME\nEOF",
	"cat <<'EOF' > main_test.go\npackage main\n\nimport \"testing\"\n\nfunc TestMain(t *testing.T) {}\nEOF",
	"mkdir -p scripts && cat > scripts/run.sh <<'EOF'\n#!/usr/bin/env bash\nset -euo pipefail\nfor f in \"$@\"; do echo \"$f\"; done\nEOF\nchmod +x scripts/run.sh",
	"tee docs/usage.md > /dev/null <<'EOF'\n# Usage\n\nRun `make build`, then `./bin/app --help`.\nEOF",
	"cat >> CHANGELOG.md <<'EOF'\n## v1.2.0\n- fix `Parse` (#12)\nEOF",
	"cat > Makefile <<'EOF'\n.PHONY: test\ntest:\n\tgo test $(PKGS)\nEOF",
	"cat > fix.py <<'EOF'\nimport re, sys\nfor p in sys.argv[1:]:\n    s = open(p).read()\n    open(p, 'w').write(re.sub(r'foo\\(', 'bar(', s))\nEOF\npython3 fix.py src/*.py",
}

// TestRound16OrdinaryLinesNotDeclined: no line of round16Ordinary may be
// declined by the rule declining rm.
func TestRound16OrdinaryLinesNotDeclined(t *testing.T) {
	p := mustParse(t, round13Rules)
	declined := 0
	for _, line := range round16Ordinary {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Decline || v.Decision == abi.Cancel {
			declined++
			t.Errorf("%q: %s (rule %q, unread %q; %s): it runs no rm", line, v.Decision, v.Rule, v.Unread, reasonOf(v))
		}
	}
	t.Logf("%d ordinary lines, %d declined", len(round16Ordinary), declined)
}

// TestRound16EscapedDollarReachesArithmetic: subText looks for "$(" or a
// backquote in the literals of the line, and literal() gives up on
// ANSI-C quoting ($'…' is no literal). So $'a[\x24(rm -rf victim)]' (or
// \044, or printf's own \x24 escape) carries a[$(rm -rf victim)] into
// the value while no literal holds "$(": arithmetic on it (echo $((z)),
// let, $(($'…'))) runs rm -rf victim, and the reading is not unsure
// (abstain, past the rule declining rm).
func TestRound16EscapedDollarReachesArithmetic(t *testing.T) {
	for _, line := range []string{
		`z=$'a[\x24(rm -rf victim)]'; echo $((z))`,
		`z=$'a[\044(rm -rf victim)]'; echo $((z))`,
		`let $'a[\x24(rm -rf victim)]'`,
		`echo $(($'a[\x24(rm -rf victim)]'))`,
		`z=$(printf 'a[\x24(rm -rf victim)]'); echo $((z))`,
		`printf -v z 'a[\x24(rm -rf victim)]'; echo $((z))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound16ValueBuiltWithoutAssign: computed is set only by an Assign
// whose value concatenates expansions (z=$x$y). bash builds a value from
// the pieces 'a[$' and '(rm -rf victim)]' just as well by appending
// (z+=…, whose value is a plain literal), by printf -v with a format, or
// through a word that is no Assign: set -- "$x$y" ($1), for z in "$x$y",
// read z <<< "$x$y". Arithmetic on it runs rm -rf victim; the reading is
// not unsure.
func TestRound16ValueBuiltWithoutAssign(t *testing.T) {
	for _, line := range []string{
		`z='a[$'; z+='(rm -rf victim)]'; echo $((z))`,
		`printf -v z '%s%s' 'a[$' '(rm -rf victim)]'; echo $((z))`,
		`x='a[$'; y='(rm -rf victim)]'; set -- "$x$y"; echo $(($1))`,
		`x='a[$'; y='(rm -rf victim)]'; for z in "$x$y"; do echo $((z)); done`,
		`x='a[$'; y='(rm -rf victim)]'; read z <<< "$x$y"; echo $((z))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}
