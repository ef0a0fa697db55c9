using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Azure.Security.KeyVault.Keys.Cryptography;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>Data Protection creates this by type from the stored element, with the app's services.</summary>
public sealed class KeyVaultXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var wrapping = services.GetService<KeyRingWrapping>()
            ?? throw new InvalidOperationException("The key ring is wrapped by a Key Vault key, and KeyVault:KeyRingKeyUri is not set.");
        var keyId = new Uri((string)encryptedElement.Attribute("keyId")!);
        var dataKey = wrapping.ClientFor(keyId).UnwrapKey(KeyWrapAlgorithm.RsaOaep256, Read(encryptedElement, "wrappedKey")).Key;
        try
        {
            var ciphertext = Read(encryptedElement, "ciphertext");
            var tag = Read(encryptedElement, "tag");
            var plaintext = new byte[ciphertext.Length];
            using (var aes = new AesGcm(dataKey, tag.Length))
            {
                aes.Decrypt(Read(encryptedElement, "nonce"), ciphertext, tag, plaintext);
            }

            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static byte[] Read(XElement element, string name) => Convert.FromBase64String((string)element.Element(name)!);
}
