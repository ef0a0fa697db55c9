using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Azure.Security.KeyVault.Keys.Cryptography;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>
/// Envelope encryption of a key-ring element: AES-256-GCM under a fresh data key, the data key
/// wrapped (RSA-OAEP-256) by the Key Vault key, which never leaves the vault.
/// </summary>
public sealed class KeyVaultXmlEncryptor(KeyRingWrapping wrapping) : IXmlEncryptor
{
    public const string ElementName = "keyVaultWrapped";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
            var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[AesGcm.TagByteSizes.MaxSize];
            using (var aes = new AesGcm(dataKey, tag.Length))
            {
                aes.Encrypt(nonce, plaintext, ciphertext, tag);
            }

            CryptographicOperations.ZeroMemory(plaintext);
            var wrapped = wrapping.ClientFor(wrapping.KeyId).WrapKey(KeyWrapAlgorithm.RsaOaep256, dataKey);
            var element = new XElement(ElementName,
                new XAttribute("keyId", wrapped.KeyId),
                new XElement("wrappedKey", Convert.ToBase64String(wrapped.EncryptedKey)),
                new XElement("nonce", Convert.ToBase64String(nonce)),
                new XElement("tag", Convert.ToBase64String(tag)),
                new XElement("ciphertext", Convert.ToBase64String(ciphertext)));
            return new EncryptedXmlInfo(element, typeof(KeyVaultXmlDecryptor));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }
}
