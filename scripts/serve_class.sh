#!/usr/bin/env bash
# Host ConvLab for a class: one or more `streamlit run` processes with the hosting settings.
#
#   scripts/serve_class.sh                 # one process on 0.0.0.0:8501 (students open http://SERVER:8501)
#   CONVLAB_PROCESSES=2 scripts/serve_class.sh   # two processes on 127.0.0.1:8501-8502, behind nginx
#   scripts/serve_class.sh --print         # print the commands, start nothing
#   scripts/serve_class.sh restart [N] [text]   # tell every open page "The server restarts in N seconds.
#                                          # Your work is saved." [N=60], wait N s, restart the processes
#                                          # a running serve_class.sh started (it keeps its pid in
#                                          # CONVLAB_STATE_DIR/serve_class.pid; SIGHUP to it restarts them)
#
# Settings (environment variables; defaults in brackets). See docs/HOSTING.md.
#   CONVLAB_ADDRESS         address to bind [0.0.0.0 for one process, 127.0.0.1 behind a proxy]
#   CONVLAB_PORT            first port [8501]; process i listens on CONVLAB_PORT + i
#   CONVLAB_PROCESSES       how many processes [1]; more than one needs the nginx config of docs/HOSTING.md
#   CONVLAB_MAX_UPLOAD_MB   Streamlit's cap on one upload, enforced by the server [25]
#   CONVLAB_TRAINING_SLOTS  trainings at once, per process [cores / 2]
#   CONVLAB_TORCH_THREADS   torch threads per training [cores / slots]
#   CONVLAB_TRAINING_NICE   how much lower the training processes' CPU priority is, 0-19 [19]
#   CONVLAB_MAX_DATASET_MB  cap on a learner's dataset zip [= CONVLAB_MAX_UPLOAD_MB]
#   CONVLAB_DATA_DIR        folder with full MNIST / Fashion-MNIST / CIFAR-10 [~/.cache/convlab/datasets]
#   CONVLAB_DOWNLOAD        1 lets the server download full datasets, 0 never [0 here]
#   CONVLAB_PRESENTATION    1 starts every session in presentation mode (large text) [0]
#   CONVLAB_SESSION_TTL_S   seconds a closed tab's session is kept for a reconnect [120]
#   CONVLAB_STATE_DIR       the workspaces and the classroom [$XDG_STATE_HOME/convlab or ~/.local/state/convlab]
#   CONVLAB_INSTRUCTOR_KEY  the key that opens the instructor console at /instructor [none: console shut]
set -euo pipefail
cd "$(dirname "$0")/.."

processes="${CONVLAB_PROCESSES:-1}"
port="${CONVLAB_PORT:-8501}"
if [[ "$processes" -gt 1 ]]; then
  address="${CONVLAB_ADDRESS:-127.0.0.1}"
else
  address="${CONVLAB_ADDRESS:-0.0.0.0}"
fi
max_upload="${CONVLAB_MAX_UPLOAD_MB:-25}"
python="${CONVLAB_PYTHON:-.venv/bin/python}"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"  # as Python's Path.home(): HOME may be unset (CI, services)
state_dir="${CONVLAB_STATE_DIR:-${XDG_STATE_HOME:-$home/.local/state}/convlab}"
pidfile="$state_dir/serve_class.pid"

if [[ "${1:-}" == "restart" ]]; then
  seconds="${2:-60}"
  if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: scripts/serve_class.sh restart [seconds] [text]  (seconds: a whole number, at least 1)" >&2
    exit 2
  fi
  supervisor="$(cat "$pidfile" 2>/dev/null || true)"
  if ! [[ "$supervisor" =~ ^[0-9]+$ ]] || ! kill -0 "$supervisor" 2>/dev/null; then
    echo "No running scripts/serve_class.sh found (no live pid in $pidfile): start the class first." >&2
    exit 1
  fi
  "$python" -m app.instructor.announce --seconds "$seconds" ${3:+"$3"}
  echo "Restarting the server in $seconds s ..."
  sleep "$seconds"
  kill -HUP "$supervisor"
  echo "Asked serve_class.sh (pid $supervisor) to restart its processes."
  exit 0
fi

export CONVLAB_MAX_DATASET_MB="${CONVLAB_MAX_DATASET_MB:-$max_upload}"
export CONVLAB_DOWNLOAD="${CONVLAB_DOWNLOAD:-0}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"  # fewer malloc arenas: memory is given back sooner
export PYTHONUNBUFFERED=1
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # idle torch threads sleep, not spin
if [[ "$CONVLAB_MAX_DATASET_MB" -gt "$max_upload" ]]; then
  echo "CONVLAB_MAX_DATASET_MB ($CONVLAB_MAX_DATASET_MB) is above the server's upload cap ($max_upload MB);" \
       "larger zips would be cut off by the server. Raise CONVLAB_MAX_UPLOAD_MB too." >&2
  exit 2
fi

command_for() {  # the hosting flags repeat .streamlit/config.toml so they hold even if it is edited
  printf '%s\n' "$python" -m streamlit run serve.py \
    "--server.address=$address" "--server.port=$1" \
    --server.headless=true --global.developmentMode=false \
    --server.fileWatcherType=none --server.runOnSave=false --server.allowRunOnSave=false \
    --client.showErrorDetails=none --client.toolbarMode=viewer \
    "--server.maxUploadSize=$max_upload" --server.maxMessageSize=200 \
    --server.enableXsrfProtection=true --server.enableCORS=true \
    "--server.disconnectedSessionTTL=${CONVLAB_SESSION_TTL_S:-120}" \
    --browser.gatherUsageStats=false --runner.postScriptGC=false
}

if [[ "${1:-}" == "--print" ]]; then
  for ((i = 0; i < processes; i++)); do
    command_for $((port + i)) | paste -sd' '
  done
  exit 0
fi

pids=()
stop() {  # stop the processes and wait for them, so their ports are free again
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
start() {
  for ((i = 0; i < processes; i++)); do
    mapfile -t cmd < <(command_for $((port + i)))
    echo "ConvLab process $((i + 1))/$processes on $address:$((port + i))"
    "${cmd[@]}" &
    pids+=("$!")
  done
}
restart_asked=0
if ! { mkdir -p "$state_dir" && echo "$$" >"$pidfile"; } 2>/dev/null; then
  echo "Cannot write $pidfile: the class runs, but 'scripts/serve_class.sh restart' will not find it." >&2
  pidfile=/dev/null
fi
trap 'stop; [[ "$pidfile" == /dev/null ]] || rm -f "$pidfile"; exit 0' INT TERM
trap 'restart_asked=1; stop' HUP
start
while true; do
  status=0
  wait || status=$?
  if [[ "$restart_asked" -eq 1 ]]; then
    restart_asked=0
    echo "Restarting ConvLab ($processes process(es))"
    start
    continue
  fi
  break
done
[[ "$pidfile" == /dev/null ]] || rm -f "$pidfile"
exit "$status"
