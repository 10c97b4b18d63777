# Each library globs its own folder so that adding a source file never needs a CMakeLists edit.
# cog_add_library(NAME DIR [DEPS...]) builds every *.cpp under DIR into a static library
# (an interface library while the folder has no sources yet).
function(cog_add_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${dir}/*.cpp")
  if(sources)
    add_library(${name} STATIC ${sources})
    target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
    target_link_libraries(${name} PUBLIC ${ARGN})
    target_compile_definitions(${name} PUBLIC
      COG_VERSION="${PROJECT_VERSION}" COG_COMPAT_VERSION="${COG_COMPAT_VERSION}"
      COG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE "${PROJECT_SOURCE_DIR}")
    target_link_libraries(${name} INTERFACE ${ARGN})
    target_compile_definitions(${name} INTERFACE
      COG_VERSION="${PROJECT_VERSION}" COG_COMPAT_VERSION="${COG_COMPAT_VERSION}"
      COG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endif()
endfunction()
