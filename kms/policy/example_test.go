package policy_test

import (
	"fmt"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// Evaluate a policy that lets a role's sessions use the key only with a
// given encryption context, and word the AccessDenied message.
func Example() {
	doc, err := policy.Parse(`{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Sid": "Allow use of the key",
	    "Effect": "Allow",
	    "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
	    "Action": ["kms:Encrypt", "kms:Decrypt"],
	    "Resource": "*",
	    "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
	  }]
	}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	caller := policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/KeyUser/app")
	const key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

	ok := doc.Evaluate(&policy.Request{Action: "kms:Decrypt", Caller: caller, Resource: key,
		EncryptionContext: map[string]string{"AppName": "ExampleApp"}})
	fmt.Println(ok)

	no := doc.Evaluate(&policy.Request{Action: "kms:Decrypt", Caller: caller, Resource: key})
	fmt.Println(no)
	fmt.Println(policy.AccessDeniedMessage(caller.ARN(), "kms:Decrypt", key, no))
	// Output:
	// Allow kms:Decrypt: statement 0 ("Allow use of the key")
	// ImplicitDeny kms:Decrypt: no statement allows the request
	// User: arn:aws:sts::111122223333:assumed-role/KeyUser/app is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action
}

// The default key policy's text, as GetKeyPolicy returns it.
func ExampleDefault() {
	fmt.Println(policy.Default("aws", "111122223333").Text())
	// Output:
	// {
	//   "Version" : "2012-10-17",
	//   "Id" : "key-default-1",
	//   "Statement" : [ {
	//     "Sid" : "Enable IAM User Permissions",
	//     "Effect" : "Allow",
	//     "Principal" : {
	//       "AWS" : "arn:aws:iam::111122223333:root"
	//     },
	//     "Action" : "kms:*",
	//     "Resource" : "*"
	//   } ]
	// }
}
