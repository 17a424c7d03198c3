#!/bin/bash
# A production web host: sshd, nginx (frontend), the pipeline's watchdog if it provides one,
# and the backend's supervisor loop (as the deploy user, in the foreground).
# The topology copies in before start: the SSH host key, certificate and user CA
# (/etc/ssh/dch/), /etc/app/db.env, and the pipeline's host-side tools (/opt/app/bin/).
set -eu
chmod 600 /etc/ssh/dch/host_ed25519
if [ -f /etc/app/db.env ]; then
  chown root:deploy /etc/app/db.env  # the app's configuration: readable by deploy, by no one else
  chmod 640 /etc/app/db.env
fi
chown deploy:deploy /run/app
/usr/sbin/sshd -D -e &
nginx
if [ -x /opt/app/bin/app-watchdog ]; then
  su -s /bin/bash deploy -c "exec /opt/app/bin/app-watchdog" &
fi
exec su -s /bin/bash deploy -c "exec /opt/app-server/supervise.sh"
