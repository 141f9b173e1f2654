/*
 * ocmod.h - everything a module needs: include this one header.
 */
#ifndef OCMOD_OCMOD_H
#define OCMOD_OCMOD_H

#include "oc-abi.h"
#include "oc-types.h"
#include "oc-error.h"
#include "oc-option.h"
#include "oc-auth.h"
#include "oc-session.h"
#include "oc-transport.h"
#include "oc-compress.h"
#include "oc-key.h"
#include "oc-host.h"
#include "oc-module.h"

#endif
