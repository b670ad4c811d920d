#!/bin/sh
# Debian's redis-server starts in protected mode (loopback clients only, without a password); the
# official image is built with it off, so that other containers reach it. Same here: the option goes
# right after the configuration file, if any, so that anything the command line says still wins.
set -e
if [ "$1" = redis-server ]; then
  shift
  case "${1:-}" in
    -v | --version | -h | --help | --test-memory | --check-system) ;; # not a server start
    '' | -*) set -- --protected-mode no "$@" ;;
    *)
      conf=$1
      shift
      set -- "$conf" --protected-mode no "$@"
      ;;
  esac
  set -- redis-server "$@"
fi
exec "$@"
