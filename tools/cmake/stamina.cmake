# Helpers for the generated CMakeLists.txt (tools/cmake/generate.py): where
# LibTorch, Debian's libraries and the protobuf tools are, and the flags
# every project target gets (those of .bazelrc).
#
# Cache variables:
#   STAMINA_LIBTORCH   LibTorch folder (include/, lib/); default: Debian's,
#                      seen through tools/libtorch/debian_folder.sh's layout
#                      under the build directory.
#   STAMINA_SYSROOT    a folder where Debian's .debs were unpacked (dpkg -x),
#                      for machines without those packages (the GPU
#                      machine: tools/gpu/prepare.sh); empty: the system's.
#   STAMINA_CUDA_INCLUDE  cuda_runtime_api.h's folder, for a CUDA LibTorch.
#   STAMINA_PROTO_GEN  folder of pre-generated *.pb.{h,cc}; empty: run protoc.

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
enable_testing()

set(STAMINA_SYSROOT "" CACHE PATH "Folder of unpacked Debian packages (empty: the system)")
set(STAMINA_LIBTORCH "" CACHE PATH "LibTorch folder with include/ and lib/ (empty: Debian's)")
set(STAMINA_CUDA_INCLUDE "/usr/local/cuda/include" CACHE PATH "Folder of cuda_runtime_api.h")
set(STAMINA_PROTO_GEN "" CACHE PATH "Pre-generated protobuf sources (empty: run protoc)")

execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-multiarch
                OUTPUT_VARIABLE STAMINA_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT STAMINA_MULTIARCH)
  set(STAMINA_MULTIARCH "x86_64-linux-gnu")
endif()

if(STAMINA_SYSROOT)
  include_directories(SYSTEM "${STAMINA_SYSROOT}/usr/include"
                      "${STAMINA_SYSROOT}/usr/include/${STAMINA_MULTIARCH}")
  set(STAMINA_SYSROOT_LIB "${STAMINA_SYSROOT}/usr/lib/${STAMINA_MULTIARCH}")
  link_directories("${STAMINA_SYSROOT_LIB}")
  # The unpacked libraries are found at run time too, and their own
  # dependencies (libgrpc's on libupb...) at link time.
  set(CMAKE_BUILD_RPATH "${STAMINA_SYSROOT_LIB};${STAMINA_SYSROOT}/lib/${STAMINA_MULTIARCH}")
  add_link_options("-Wl,-rpath-link,${STAMINA_SYSROOT_LIB}")
  set(STAMINA_PROTO_INCLUDE "${STAMINA_SYSROOT}/usr/include")
  set(STAMINA_GRPC_PROTO_DIR "${STAMINA_SYSROOT}/usr/share/grpc-proto")
  set(STAMINA_PROTOC "${STAMINA_SYSROOT}/usr/bin/protoc")
  set(STAMINA_GRPC_CPP_PLUGIN "${STAMINA_SYSROOT}/usr/bin/grpc_cpp_plugin")
else()
  set(STAMINA_PROTO_INCLUDE "/usr/include")
  set(STAMINA_GRPC_PROTO_DIR "/usr/share/grpc-proto")
  set(STAMINA_PROTOC "/usr/bin/protoc")
  set(STAMINA_GRPC_CPP_PLUGIN "/usr/bin/grpc_cpp_plugin")
endif()

set(STAMINA_GEN "${CMAKE_BINARY_DIR}/gen")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/test_tmp")

# LibTorch. Debian's splits headers over /usr/include and
# /usr/include/torch/csrc/api/include; a LibTorch folder has both under
# include/.
if(STAMINA_LIBTORCH)
  set(STAMINA_TORCH_INCLUDE "${STAMINA_LIBTORCH}/include"
                            "${STAMINA_LIBTORCH}/include/torch/csrc/api/include")
  set(STAMINA_TORCH_LIB "${STAMINA_LIBTORCH}/lib")
else()
  set(STAMINA_TORCH_INCLUDE "/usr/include/torch/csrc/api/include")
  set(STAMINA_TORCH_LIB "/usr/lib/${STAMINA_MULTIARCH}")
endif()
foreach(required libtorch.so libtorch_cpu.so libc10.so)
  if(NOT EXISTS "${STAMINA_TORCH_LIB}/${required}")
    message(FATAL_ERROR "No ${required} in ${STAMINA_TORCH_LIB}: set STAMINA_LIBTORCH")
  endif()
endforeach()
add_library(stamina_torch INTERFACE)
target_include_directories(stamina_torch SYSTEM INTERFACE ${STAMINA_TORCH_INCLUDE})
target_link_libraries(stamina_torch INTERFACE
  "-L${STAMINA_TORCH_LIB}" "-Wl,-rpath,${STAMINA_TORCH_LIB}" -ltorch -ltorch_cpu -lc10)
if(EXISTS "${STAMINA_TORCH_LIB}/libtorch_cuda.so")
  # Nothing references libtorch_cuda's symbols: without --no-as-needed the
  # linker drops it and LibTorch registers no CUDA kernels.
  target_link_libraries(stamina_torch INTERFACE
    "-Wl,--no-as-needed" -ltorch_cuda -lc10_cuda "-Wl,--as-needed")
  target_compile_definitions(stamina_torch INTERFACE STAMINA_WITH_CUDA)
  target_include_directories(stamina_torch SYSTEM INTERFACE "${STAMINA_CUDA_INCLUDE}")
  message(STATUS "stamina: CUDA LibTorch in ${STAMINA_LIBTORCH}")
endif()

# Every project target: the workspace root on the include path (Bazel's
# -iquote .), the generated protobuf headers, .bazelrc's warnings.
function(stamina_project_target name)
  target_include_directories(${name} PRIVATE "${CMAKE_SOURCE_DIR}")
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
endfunction()

# protoc (with the gRPC plugin) into DIR, or copies from STAMINA_PROTO_GEN.
function(stamina_protoc name)
  cmake_parse_arguments(ARG "" "DIR" "OUTPUTS;COMMAND;DEPENDS" ${ARGN})
  set(outputs "")
  foreach(output ${ARG_OUTPUTS})
    list(APPEND outputs "${ARG_DIR}/${output}")
  endforeach()
  file(MAKE_DIRECTORY "${ARG_DIR}")
  if(STAMINA_PROTO_GEN)
    file(RELATIVE_PATH relative "${STAMINA_GEN}" "${ARG_DIR}")
    foreach(output ${ARG_OUTPUTS})
      configure_file("${STAMINA_PROTO_GEN}/${relative}/${output}" "${ARG_DIR}/${output}" COPYONLY)
    endforeach()
  else()
    add_custom_command(OUTPUT ${outputs} COMMAND ${ARG_COMMAND} DEPENDS ${ARG_DEPENDS}
                       COMMENT "protoc: ${name}" VERBATIM)
  endif()
  add_custom_target(${name} DEPENDS ${outputs})
endfunction()
