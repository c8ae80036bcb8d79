#!/usr/bin/env bash
# Replays the Dockerfile's steps in a shell, for hosts without a container
# engine (this project's CI has none): each stage gets a directory as its
# root, COPY copies (the build context filtered by .dockerignore), RUN runs
# with sh in the stage's WORKDIR, and the last stage's directory is the
# image's file system. What a container adds is not emulated: the build
# stage runs on this host's Go toolchain and module cache instead of
# golang:${GO_VERSION}.
#
#   bash scripts/docker-steps.sh OUTDIR       # VERSION=..., REVISION=... act as --build-arg
#
# Writes OUTDIR/rootfs (the final image) and OUTDIR/image.env (its USER,
# WORKDIR, ENV and CMD), then runs every binary with --version in a chroot
# of the rootfs as the image's USER when run as root (else directly).
# test/image runs it from `make test` and checks the result further.
set -euo pipefail
cd "$(dirname "$0")/.."
ctx=$PWD
out=${1:?usage: docker-steps.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/stages" "$out/rootfs" "$out/context"

# The build context: the tree minus .dockerignore's patterns (anchored at
# the context root, as Docker does; ** as any directories).
ignore=$(mktemp)
trap 'rm -f "$ignore"' EXIT
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' -e 's#^\*\*/#*/#' .dockerignore >"$ignore"
mkdir -p "$out/context"
# shellcheck disable=SC2046 # the top-level names, so patterns anchor at the root
tar -C "$ctx" -cf - --anchored --exclude-from="$ignore" -- $(ls -A) | tar -C "$out/context" -xf -

declare -A args=()   # ARG defaults and values
declare -A stages=() # stage name or index -> root directory
nstage=0 root="" workdir=/ user="" cmd="" envs=()
stage_env=()

subst() { # expands ${NAME} and $NAME of ARG/ENV values in instruction arguments
	local s=$1 k
	for k in "${!args[@]}"; do
		s=${s//\$\{$k\}/${args[$k]}}
		s=${s//\$$k/${args[$k]}}
	done
	printf '%s' "$s"
}

copy() { # copy [--from=stage] [--chown=u:g] SRC... DEST
	local from="" chown="" a srcroot dest
	local -a srcs=()
	for a in "$@"; do
		case $a in
		--from=*) from=${a#--from=} ;;
		--chown=*) chown=${a#--chown=} ;;
		--*) echo "docker-steps: COPY option $a is not replayed" >&2; exit 1 ;;
		*) srcs+=("$a") ;;
		esac
	done
	dest=${srcs[-1]}
	unset 'srcs[-1]'
	[[ $dest == /* ]] || dest=$workdir/$dest
	if [[ -n $from ]]; then
		srcroot=${stages[$from]:?docker-steps: COPY --from=$from: no such stage}
	else
		srcroot=$out/context
	fi
	mkdir -p "$root$dest"
	for a in "${srcs[@]}"; do
		if [[ -n $from ]]; then a=${a#/}; else a=${a#./}; fi
		if [[ -d $srcroot/$a ]]; then
			cp -a "$srcroot/$a/." "$root$dest/"
		else
			cp -a "$srcroot/$a" "$root$dest/"
		fi
		if [[ -n $chown && $(id -u) == 0 ]]; then
			if [[ -d $srcroot/$a ]]; then
				(cd "$srcroot/$a" && find . -mindepth 1) | while read -r f; do chown -h "$chown" "$root$dest/$f"; done
			else
				chown -h "$chown" "$root$dest/$(basename "$a")"
			fi
		fi
	done
}

run_step() {
	echo "docker-steps: RUN $1" >&2
	(cd "$root$workdir" && env "${stage_env[@]}" "${args_env[@]}" sh -ec "$1")
}

# Instructions, with continuation lines joined and comments dropped.
mapfile -t lines < <(sed -e '/^[[:space:]]*#/d' Dockerfile | sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' | sed -e '/^[[:space:]]*$/d')
for line in "${lines[@]}"; do
	instr=${line%%[[:space:]]*}
	rest=${line#"$instr"}
	rest=${rest#"${rest%%[![:space:]]*}"}
	case ${instr^^} in
	ARG)
		name=${rest%%=*}
		if [[ -n ${!name+x} ]]; then args[$name]=${!name} # a --build-arg from the environment
		elif [[ $rest == *=* ]]; then args[$name]=${rest#*=}
		else args[$name]=""; fi
		;;
	FROM)
		read -r -a f <<<"$(subst "$rest")"
		root=$out/stages/$nstage
		mkdir -p "$root"
		stages[$nstage]=$root
		[[ ${#f[@]} -ge 3 && ${f[1]^^} == AS ]] && stages[${f[2]}]=$root
		echo "docker-steps: FROM ${f[0]} (stage $nstage in $root)" >&2
		nstage=$((nstage + 1)) workdir=/ user="" cmd="" envs=() stage_env=()
		;;
	WORKDIR)
		workdir=$(subst "$rest")
		mkdir -p "$root$workdir"
		;;
	COPY)
		read -r -a f <<<"$(subst "$rest")"
		copy "${f[@]}"
		;;
	RUN)
		args_env=()
		for k in "${!args[@]}"; do args_env+=("$k=${args[$k]}"); done
		run_step "$rest"
		;;
	ENV)
		envs+=("$(subst "$rest")")
		# PATH is the container's, not the replay's.
		[[ $rest == PATH=* ]] || stage_env+=("$(subst "$rest")")
		;;
	USER) user=$(subst "$rest") ;;
	CMD) cmd=$rest ;;
	LABEL | EXPOSE) ;;
	*)
		echo "docker-steps: Dockerfile instruction $instr is not replayed: teach scripts/docker-steps.sh" >&2
		exit 1
		;;
	esac
done

mv "$root" "$out/rootfs"
rm -rf "$out/stages" "$out/context"
{
	echo "USER=$user"
	echo "WORKDIR=$workdir"
	for e in "${envs[@]}"; do echo "ENV $e"; done
	echo "CMD=$cmd"
} >"$out/image.env"

# The image's binaries, run as its USER in a chroot of its file system:
# nothing but the binaries is in there, so a dynamic binary cannot start.
for b in grape worker client; do
	if [[ $(id -u) == 0 ]]; then
		line=$(chroot --userspec="$user" "$out/rootfs" "/usr/local/bin/$b" --version)
	else
		line=$("$out/rootfs/usr/local/bin/$b" --version)
	fi
	echo "docker-steps: $line" >&2
	[[ $line == "$b "* ]] || { echo "docker-steps: $b --version said: $line" >&2; exit 1; }
done
echo "docker-steps: image file system in $out/rootfs" >&2
