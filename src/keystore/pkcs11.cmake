# The PKCS#11 ("HSM") keystore, a library of its own so that it can be built
# and tested before it joins sg_keystore.  Included from tests/unit/keystore
# (and later from src/keystore); defined once however often it is included.
# The PKCS#11 header comes from p11-kit; the module itself is dlopen'd.
include_guard(GLOBAL)
# Only the header: no -lp11-kit, so no imported target.  The include path is
# also cached for the tests, which inspect the token through the same header
# wherever this file was first included from.
pkg_check_modules(P11KIT REQUIRED p11-kit-1)
set(SIGNET_P11KIT_INCLUDE_DIRS ${P11KIT_INCLUDE_DIRS} CACHE INTERNAL "PKCS#11 header (p11-kit)")

add_library(sg_keystore_pkcs11 STATIC ${CMAKE_CURRENT_LIST_DIR}/pkcs11.c
  ${CMAKE_CURRENT_LIST_DIR}/p11_sealer.c ${CMAKE_CURRENT_LIST_DIR}/hsm.c
  ${CMAKE_CURRENT_LIST_DIR}/custody.c)
target_include_directories(sg_keystore_pkcs11
  PUBLIC ${CMAKE_CURRENT_LIST_DIR}
  PRIVATE ${SIGNET_P11KIT_INCLUDE_DIRS})
# sg_keystore: the sealer interface and the software keystore that holds
# the sealed (ML-DSA, composite) keys of storage HSM.
target_link_libraries(sg_keystore_pkcs11
  PUBLIC sg_keystore sg_crypto sg_util OpenSSL::Crypto Threads::Threads ${CMAKE_DL_LIBS})
