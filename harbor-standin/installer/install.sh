#!/bin/sh
# install.sh (harbor-ha's Harbor stand-in): prepare, then start the services of docker-compose.yml.
# harbor-ha's deploy (step harbor.install) does the same two things itself, starting the services
# through the node's Docker API; this script is for a person at a host that has docker-compose.
set -eu
cd "$(dirname "$0")"
echo "[Step 1]: preparing environment ..."
./prepare
echo "[Step 2]: starting Harbor ..."
if command -v docker-compose >/dev/null 2>&1; then
  docker-compose up -d
elif docker compose version >/dev/null 2>&1; then
  docker compose up -d
else
  echo "no docker-compose on this host: run harbor-ha deploy, which starts the services of docker-compose.yml" >&2
  exit 2
fi
echo "----Harbor has been installed and started successfully.----"
