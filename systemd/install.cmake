# Install-time part of `cmake --install`: the unit and the tmpfiles.d file name absolute
# paths, and those must follow the prefix given to `cmake --install --prefix`, which is
# only known now. Set by the caller: GB_SOURCE_DIR, GB_SBINDIR and GB_SYSCONFDIR (the
# configured CMAKE_INSTALL_SBINDIR and CMAKE_INSTALL_SYSCONFDIR).

# The same rules as GNUInstallDirs: etc is /etc for the prefixes / and /usr, and
# /etc/opt/NAME for /opt/NAME.
function(gb_full_dir out dir kind)
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
    set(full "/${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND CMAKE_INSTALL_PREFIX MATCHES "^/opt/"
         AND NOT CMAKE_INSTALL_PREFIX MATCHES "^/opt/homebrew/")
    set(full "/${dir}${CMAKE_INSTALL_PREFIX}")
  else()
    set(full "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
  cmake_path(SET full NORMALIZE "${full}")
  string(REGEX REPLACE "(.)/$" "\\1" full "${full}")
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

# Writes TEMPLATE, with @VAR@ replaced, as DESTDIR/DEST (an absolute path).
function(gb_install_configured template dest)
  set(out "$ENV{DESTDIR}${dest}")
  message(STATUS "Installing: ${out}")
  configure_file("${template}" "${out}" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

gb_full_dir(CMAKE_INSTALL_FULL_SBINDIR "${GB_SBINDIR}" SBINDIR)
gb_full_dir(CMAKE_INSTALL_FULL_SYSCONFDIR "${GB_SYSCONFDIR}" SYSCONFDIR)
set(GB_SYSCONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}")

# Units and tmpfiles.d files go under PREFIX/lib, not the multiarch libdir.
gb_install_configured("${GB_SOURCE_DIR}/systemd/gbd.service.in"
                      "${CMAKE_INSTALL_PREFIX}/lib/systemd/system/gbd.service")
gb_install_configured("${GB_SOURCE_DIR}/systemd/gbd.tmpfiles.in"
                      "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d/gbd.conf")

# The configuration holds keys once edited: a reinstall keeps it, and it is not
# world-readable (tmpfiles.d gives it group gbd).
set(conf "${CMAKE_INSTALL_FULL_SYSCONFDIR}/gbd/gbd.toml")
if(EXISTS "$ENV{DESTDIR}${conf}")
  message(STATUS "Keeping: $ENV{DESTDIR}${conf}")
else()
  file(INSTALL DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/gbd" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
       FILES "${GB_SOURCE_DIR}/etc/gbd.toml")
endif()
