#!/usr/bin/env bash
# run.sh: `make run`. Starts nginx and every postern executable on 127.0.0.1 with the
# state in var/ (kept between runs), prints how to use it, stops on Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
state="$root/var"
mkdir -p "$state"
# stack.sh says why when it refuses (var/ already running from another `make run`, the
# port taken) and moves var/ to PORT when it was set up for another one
info=$(PORT=$PORT "$root/tools/stack.sh" up "$state")
stop() { "$root/tools/stack.sh" down "$state"; echo; echo "postern stopped."; }
trap stop EXIT
trap 'exit 0' INT TERM
field() { printf '%s' "$info" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
app=$(cat "$state/demo-app.json")
get() { printf '%s' "$app" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
url=$(field url)
cat <<MSG

postern is running at $url
  sign in:        $url/oauth/login   user: demo   password: $(cat "$state/demo-password")
  your apps:      $url/oauth/apps
  approved apps:  $url/oauth/approved
  metadata:       $url/.well-known/oauth-authorization-server

demo app
  client_id:      $(get client_id)
  client_secret:  $(get client_secret)
  redirect_uri:   http://127.0.0.1:$PORT/demo/callback
  try it:         $url/oauth/authorize?response_type=code&client_id=$(get client_id)&state=demo

Postiz CLI:       POSTIZ_AUTH_SERVER=$url postiz auth:login
admin command:    POSTERN_CONFIG=$state/postern.conf build/postern --help
state and logs:   $state

Press Ctrl-C to stop.
MSG
while :; do sleep 3600 & wait $!; done
