/*
 * functions.c - the Cryptoki function list of libsignet-pkcs11.so, and the
 * entry points a signing-only remote token does not offer.
 *
 * The token holds no secrets of its own and cannot create, change or
 * export objects: everything but finding objects and signing answers
 * CKR_FUNCTION_NOT_SUPPORTED, which is the standard's word for "this token
 * does not do that" and what tools expect (pkcs11-tool, libp11 and SunPKCS11
 * all check the mechanism list before asking).  Verification is left to
 * the tools, which hold the public key and certificate from the token.
 */
#include <stddef.h>
#include "sg_p11.h"

CK_RV
C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved)
{
	(void)flags;
	(void)slot;
	(void)reserved;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_InitToken(CK_SLOT_ID slot_id, CK_BYTE *pin, CK_ULONG pin_len, CK_BYTE *label)
{
	(void)slot_id;
	(void)pin;
	(void)pin_len;
	(void)label;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_InitPIN(CK_SESSION_HANDLE session, CK_BYTE *pin, CK_ULONG pin_len)
{
	(void)session;
	(void)pin;
	(void)pin_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SetPIN(CK_SESSION_HANDLE session, CK_BYTE *old_pin, CK_ULONG old_len, CK_BYTE *new_pin,
    CK_ULONG new_len)
{
	(void)session;
	(void)old_pin;
	(void)old_len;
	(void)new_pin;
	(void)new_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GetOperationState(CK_SESSION_HANDLE session, CK_BYTE *operation_state, CK_ULONG
    *operation_state_len)
{
	(void)session;
	(void)operation_state;
	(void)operation_state_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SetOperationState(CK_SESSION_HANDLE session, CK_BYTE *operation_state, CK_ULONG
    operation_state_len, CK_OBJECT_HANDLE encryption_key, CK_OBJECT_HANDLE
    authentiation_key)
{
	(void)session;
	(void)operation_state;
	(void)operation_state_len;
	(void)encryption_key;
	(void)authentiation_key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ, CK_ULONG count,
    CK_OBJECT_HANDLE *object)
{
	(void)session;
	(void)templ;
	(void)count;
	(void)object;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_CopyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ,
    CK_ULONG count, CK_OBJECT_HANDLE *new_object)
{
	(void)session;
	(void)object;
	(void)templ;
	(void)count;
	(void)new_object;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
	(void)session;
	(void)object;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GetObjectSize(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG *size)
{
	(void)session;
	(void)object;
	(void)size;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ,
    CK_ULONG count)
{
	(void)session;
	(void)object;
	(void)templ;
	(void)count;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_EncryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	(void)session;
	(void)mechanism;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_Encrypt(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE
    *encrypted_data, CK_ULONG *encrypted_data_len)
{
	(void)session;
	(void)data;
	(void)data_len;
	(void)encrypted_data;
	(void)encrypted_data_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_EncryptUpdate(CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE
    *encrypted_part, CK_ULONG *encrypted_part_len)
{
	(void)session;
	(void)part;
	(void)part_len;
	(void)encrypted_part;
	(void)encrypted_part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_EncryptFinal(CK_SESSION_HANDLE session, CK_BYTE *last_encrypted_part, CK_ULONG
    *last_encrypted_part_len)
{
	(void)session;
	(void)last_encrypted_part;
	(void)last_encrypted_part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DecryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	(void)session;
	(void)mechanism;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_Decrypt(CK_SESSION_HANDLE session, CK_BYTE *encrypted_data, CK_ULONG encrypted_data_len,
    CK_BYTE *data, CK_ULONG *data_len)
{
	(void)session;
	(void)encrypted_data;
	(void)encrypted_data_len;
	(void)data;
	(void)data_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DecryptUpdate(CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG
    encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len)
{
	(void)session;
	(void)encrypted_part;
	(void)encrypted_part_len;
	(void)part;
	(void)part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DecryptFinal(CK_SESSION_HANDLE session, CK_BYTE *last_part, CK_ULONG *last_part_len)
{
	(void)session;
	(void)last_part;
	(void)last_part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DigestInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism)
{
	(void)session;
	(void)mechanism;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_Digest(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *digest,
    CK_ULONG *digest_len)
{
	(void)session;
	(void)data;
	(void)data_len;
	(void)digest;
	(void)digest_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DigestUpdate(CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len)
{
	(void)session;
	(void)part;
	(void)part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DigestKey(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key)
{
	(void)session;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DigestFinal(CK_SESSION_HANDLE session, CK_BYTE *digest, CK_ULONG *digest_len)
{
	(void)session;
	(void)digest;
	(void)digest_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SignRecoverInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	(void)session;
	(void)mechanism;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SignRecover(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE
    *signature, CK_ULONG *signature_len)
{
	(void)session;
	(void)data;
	(void)data_len;
	(void)signature;
	(void)signature_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_VerifyInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	(void)session;
	(void)mechanism;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_Verify(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *signature,
    CK_ULONG signature_len)
{
	(void)session;
	(void)data;
	(void)data_len;
	(void)signature;
	(void)signature_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_VerifyUpdate(CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len)
{
	(void)session;
	(void)part;
	(void)part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_VerifyFinal(CK_SESSION_HANDLE session, CK_BYTE *signature, CK_ULONG signature_len)
{
	(void)session;
	(void)signature;
	(void)signature_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_VerifyRecoverInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE
    key)
{
	(void)session;
	(void)mechanism;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_VerifyRecover(CK_SESSION_HANDLE session, CK_BYTE *signature, CK_ULONG signature_len,
    CK_BYTE *data, CK_ULONG *data_len)
{
	(void)session;
	(void)signature;
	(void)signature_len;
	(void)data;
	(void)data_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DigestEncryptUpdate(CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE
    *encrypted_part, CK_ULONG *encrypted_part_len)
{
	(void)session;
	(void)part;
	(void)part_len;
	(void)encrypted_part;
	(void)encrypted_part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DecryptDigestUpdate(CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG
    encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len)
{
	(void)session;
	(void)encrypted_part;
	(void)encrypted_part_len;
	(void)part;
	(void)part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SignEncryptUpdate(CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE
    *encrypted_part, CK_ULONG *encrypted_part_len)
{
	(void)session;
	(void)part;
	(void)part_len;
	(void)encrypted_part;
	(void)encrypted_part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DecryptVerifyUpdate(CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG
    encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len)
{
	(void)session;
	(void)encrypted_part;
	(void)encrypted_part_len;
	(void)part;
	(void)part_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GenerateKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *templ,
    CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	(void)session;
	(void)mechanism;
	(void)templ;
	(void)count;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE
    *public_key_template, CK_ULONG public_key_attribute_count, CK_ATTRIBUTE
    *private_key_template, CK_ULONG private_key_attribute_count, CK_OBJECT_HANDLE
    *public_key, CK_OBJECT_HANDLE *private_key)
{
	(void)session;
	(void)mechanism;
	(void)public_key_template;
	(void)public_key_attribute_count;
	(void)private_key_template;
	(void)private_key_attribute_count;
	(void)public_key;
	(void)private_key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_WrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE wrapping_key,
    CK_OBJECT_HANDLE key, CK_BYTE *wrapped_key, CK_ULONG *wrapped_key_len)
{
	(void)session;
	(void)mechanism;
	(void)wrapping_key;
	(void)key;
	(void)wrapped_key;
	(void)wrapped_key_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_UnwrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE
    unwrapping_key, CK_BYTE *wrapped_key, CK_ULONG wrapped_key_len, CK_ATTRIBUTE *templ,
    CK_ULONG attribute_count, CK_OBJECT_HANDLE *key)
{
	(void)session;
	(void)mechanism;
	(void)unwrapping_key;
	(void)wrapped_key;
	(void)wrapped_key_len;
	(void)templ;
	(void)attribute_count;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_DeriveKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE base_key,
    CK_ATTRIBUTE *templ, CK_ULONG attribute_count, CK_OBJECT_HANDLE *key)
{
	(void)session;
	(void)mechanism;
	(void)base_key;
	(void)templ;
	(void)attribute_count;
	(void)key;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SeedRandom(CK_SESSION_HANDLE session, CK_BYTE *seed, CK_ULONG seed_len)
{
	(void)session;
	(void)seed;
	(void)seed_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE *random_data, CK_ULONG random_len)
{
	(void)session;
	(void)random_data;
	(void)random_len;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_FUNCTION_LIST sg_p11_function_list = {
	.version = { 2, 40 },
	.C_Initialize = C_Initialize,
	.C_Finalize = C_Finalize,
	.C_GetInfo = C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = C_GetSlotList,
	.C_GetSlotInfo = C_GetSlotInfo,
	.C_GetTokenInfo = C_GetTokenInfo,
	.C_WaitForSlotEvent = C_WaitForSlotEvent,
	.C_GetMechanismList = C_GetMechanismList,
	.C_GetMechanismInfo = C_GetMechanismInfo,
	.C_InitToken = C_InitToken,
	.C_InitPIN = C_InitPIN,
	.C_SetPIN = C_SetPIN,
	.C_OpenSession = C_OpenSession,
	.C_CloseSession = C_CloseSession,
	.C_CloseAllSessions = C_CloseAllSessions,
	.C_GetSessionInfo = C_GetSessionInfo,
	.C_GetOperationState = C_GetOperationState,
	.C_SetOperationState = C_SetOperationState,
	.C_Login = C_Login,
	.C_Logout = C_Logout,
	.C_CreateObject = C_CreateObject,
	.C_CopyObject = C_CopyObject,
	.C_DestroyObject = C_DestroyObject,
	.C_GetObjectSize = C_GetObjectSize,
	.C_GetAttributeValue = C_GetAttributeValue,
	.C_SetAttributeValue = C_SetAttributeValue,
	.C_FindObjectsInit = C_FindObjectsInit,
	.C_FindObjects = C_FindObjects,
	.C_FindObjectsFinal = C_FindObjectsFinal,
	.C_EncryptInit = C_EncryptInit,
	.C_Encrypt = C_Encrypt,
	.C_EncryptUpdate = C_EncryptUpdate,
	.C_EncryptFinal = C_EncryptFinal,
	.C_DecryptInit = C_DecryptInit,
	.C_Decrypt = C_Decrypt,
	.C_DecryptUpdate = C_DecryptUpdate,
	.C_DecryptFinal = C_DecryptFinal,
	.C_DigestInit = C_DigestInit,
	.C_Digest = C_Digest,
	.C_DigestUpdate = C_DigestUpdate,
	.C_DigestKey = C_DigestKey,
	.C_DigestFinal = C_DigestFinal,
	.C_SignInit = C_SignInit,
	.C_Sign = C_Sign,
	.C_SignUpdate = C_SignUpdate,
	.C_SignFinal = C_SignFinal,
	.C_SignRecoverInit = C_SignRecoverInit,
	.C_SignRecover = C_SignRecover,
	.C_VerifyInit = C_VerifyInit,
	.C_Verify = C_Verify,
	.C_VerifyUpdate = C_VerifyUpdate,
	.C_VerifyFinal = C_VerifyFinal,
	.C_VerifyRecoverInit = C_VerifyRecoverInit,
	.C_VerifyRecover = C_VerifyRecover,
	.C_DigestEncryptUpdate = C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate,
	.C_GenerateKey = C_GenerateKey,
	.C_GenerateKeyPair = C_GenerateKeyPair,
	.C_WrapKey = C_WrapKey,
	.C_UnwrapKey = C_UnwrapKey,
	.C_DeriveKey = C_DeriveKey,
	.C_SeedRandom = C_SeedRandom,
	.C_GenerateRandom = C_GenerateRandom,
	.C_GetFunctionStatus = C_GetFunctionStatus,
	.C_CancelFunction = C_CancelFunction,
};

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &sg_p11_function_list;
	return CKR_OK;
}
