#!/bin/bash
# Lay down the initial release if none is there, then run sshd and the app.
set -eu
initial="${APP_INITIAL_VERSION:-1.0.0}"
if [ ! -e /opt/app/current ]; then
  mkdir -p "/opt/app/releases/$initial"
  echo "$initial" > "/opt/app/releases/$initial/VERSION"
  ln -s "/opt/app/releases/$initial" /opt/app/current
  printf '{"current_version": "%s", "previous_version": null}\n' "$initial" > /var/lib/app-production-state.json
  chown -R deploy:deploy /opt/app /var/lib/app-production-state.json
fi
chmod 600 /etc/ssh/dch/host_ed25519
/usr/sbin/sshd -D -e &
exec su -s /bin/bash deploy -c "exec python3 /opt/app-server/app.py"
